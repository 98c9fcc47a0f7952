"""The web interface for operators and auditors: server-rendered French pages on the State's design system (DSFR),
htmx for the parts that update in place. Thin over the service layer, like the API and the CLI."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from domain.errors import DomainError
from pacte.codec import PacteCodec
from pacte.service import ContractNotFound
from pacte.service.facade import Pacte
from pacte.settings import Settings
from pacte.web import acts, audit, auth, codec_endpoint, oidc, pages, todo, tokens_page, tools
from pacte.web.drafts import keep_draft
from pacte.web.messages import in_french
from pacte.web.rendering import ROOT, render
from pacte.web.session import CsrfRefused, SignInRequired

STATIC = Path(__file__).parent / "static"
ERROR_TITLES = {
    400: "Demande incorrecte",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Action impossible à cette adresse",
    409: "Acte impossible maintenant",
    413: "Envoi trop volumineux",
    422: "Demande refusée",
    500: "Erreur du service",
}
# What a person reads on an error page: French only (the framework's own words, "Not Found", "Method Not Allowed",
# are for the logs). A user walk found "Page introuvable / Not Found".
ERROR_MESSAGES = {
    400: "Cette demande n'a pas pu être lue. Rien n'a été enregistré ; revenez à la page précédente et recommencez.",
    403: "Vous n'avez pas accès à cette page.",
    404: "Cette adresse ne correspond à aucune page de Pacte. Vérifiez-la, ou repartez de la liste des contrats.",
    405: "Cette adresse ne prend pas ce type de demande (un formulaire s'envoie depuis sa page). Rien n'a été "
    "enregistré.",
    413: "Ce que vous avez envoyé est trop volumineux. Rien n'a été enregistré.",
    422: "Cette adresse contient une valeur que Pacte ne sait pas lire. Rien n'a été enregistré.",
    500: "Une erreur inattendue est survenue de notre côté. Rien n'a été enregistré ; réessayez dans un instant. Si "
    "elle se reproduit, signalez-la avec l'heure de votre demande.",
}


def create_web(settings: Settings, service: Callable[[], Pacte]) -> FastAPI:
    """The web application, to mount at ``/ui``; ``service`` gives the running service layer."""
    web = FastAPI(title="Pacte — interface web", docs_url=None, redoc_url=None, openapi_url=None)
    web.state.settings = settings
    web.state.service = service
    web.state.oidc = oidc.client(settings) if settings.oidc_issuer else None
    web.state.codec = PacteCodec(settings.load_keyring())  # the codec endpoint's (Temporal's Web UI reads through it)
    web.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_key(),
        session_cookie="pacte_session",
        max_age=settings.session_hours * 3600,
        path=ROOT,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    web.mount("/static", StaticFiles(directory=STATIC), name="static")

    @web.middleware("http")
    async def answered_in_place(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """A form htmx sends in place (its page's content swapped by the answer): a refusal is its French answer, to
        swap in like any page — 200 to htmx, which swaps no 4xx and whose browser would log the 4xx as a console
        error (a user walk found every refused form so); the status is kept in ``X-Pacte-Status``. A redirect (the
        act recorded, a session to sign in again) becomes a whole page's navigation (``HX-Redirect``), never a page
        swapped inside another. To anyone but htmx, a refusal stays a refusal and a redirect a redirect."""
        answer = await call_next(request)
        if request.headers.get("HX-Request") != "true":
            return answer
        if answer.status_code in (301, 302, 303, 307, 308) and "location" in answer.headers:
            answer.headers["HX-Redirect"] = answer.headers["location"]  # its cookies kept (the session, its flash)
            del answer.headers["location"]
            answer.status_code = 200
            return answer
        if 400 <= answer.status_code < 500 and answer.headers.get("content-type", "").startswith("text/html"):
            answer.headers["X-Pacte-Status"] = str(answer.status_code)
            answer.status_code = 200
        return answer

    for module in (
        auth,
        codec_endpoint,
        acts,
        audit,
        tokens_page,
        todo,
        tools,
        pages,
    ):  # acts before pages: /contrats/proposer is not a contract's id
        web.include_router(module.router)

    @web.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, error: SignInRequired) -> Response:
        # A form sent just after its session ended: what was typed is kept for the person, and comes back filled
        # once they have signed in again (acts.restored). Nothing is recorded.
        back = await keep_draft(request, error) if request.method == "POST" else None
        return RedirectResponse(f"{ROOT}/connexion?suivant={quote(back or error.next_url)}", status_code=303)

    @web.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, _: CsrfRefused) -> HTMLResponse:
        return render(
            request,
            "error.html",
            "Formulaire expiré",
            403,
            message="Ce formulaire n'a pas été envoyé par une page de Pacte ouverte dans cette session (ou la session "
            "a expiré). Rien n'a été enregistré ; rouvrez la page et recommencez.",
        )

    @web.exception_handler(DomainError)
    async def refused(request: Request, error: DomainError) -> HTMLResponse:
        status = {"not_found": 404, "forbidden": 403, "out_of_scope": 403, "store_diverged": 409}.get(error.code, 422)
        title = "Contrat à examiner" if error.code == "store_diverged" else ERROR_TITLES[status]
        return render(request, "error.html", title, status, message=in_french(error.rule, error.params, error.code))

    @web.exception_handler(ContractNotFound)
    async def no_contract(request: Request, error: ContractNotFound) -> HTMLResponse:
        return render(request, "error.html", ERROR_TITLES[404], 404, message=f"Aucun contrat {error.contract_id}.")

    @web.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> HTMLResponse:
        status = error.status_code
        message = ERROR_MESSAGES.get(status, ERROR_MESSAGES[500 if status >= 500 else 400])
        return render(request, "error.html", ERROR_TITLES.get(status, "Erreur"), status, message=message)

    @web.exception_handler(RequestValidationError)
    async def unreadable(request: Request, _: RequestValidationError) -> HTMLResponse:
        return render(request, "error.html", ERROR_TITLES[422], 422, message=ERROR_MESSAGES[422])

    @web.exception_handler(ValueError)
    async def bad_value(request: Request, error: ValueError) -> HTMLResponse:
        status = 413 if "too large" in str(error) else 400  # the body's bound (pacte.api.middleware), or unreadable
        return render(request, "error.html", ERROR_TITLES[status], status, message=ERROR_MESSAGES[status])

    @web.exception_handler(Exception)
    async def failed(request: Request, _: Exception) -> HTMLResponse:
        # Logged with its traceback by the server (in English); the person reads French.
        return render(request, "error.html", ERROR_TITLES[500], 500, message=ERROR_MESSAGES[500])

    return web
