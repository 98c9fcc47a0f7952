"""The service layer: the one implementation of what Pacte does, under the API, the CLI and the web interface.

``operations`` holds the Temporal side (start a contract, send a command as an update), ``facade.Pacte`` the
operations with roles and scopes checked, ``catalogue`` the commands an operator can send, ``answers`` what comes back.
"""

from pacte.service.operations import (
    UPDATE_TIMEOUT_S,
    ContractNotFound,
    ImportResult,
    ProposeOutcome,
    closed_state,
    current_state,
    handle,
    history,
    import_contract,
    propose,
    send_command,
    start_contract,
)

__all__ = [
    "UPDATE_TIMEOUT_S",
    "ContractNotFound",
    "ImportResult",
    "ProposeOutcome",
    "closed_state",
    "current_state",
    "handle",
    "history",
    "import_contract",
    "propose",
    "send_command",
    "start_contract",
]
