// After htmx replaces part of a page, move the focus to what changed and let screen readers hear it: the new
// region's first heading, alert or error (RGAA 7.1: a change of content is announced).
document.addEventListener("htmx:afterSwap", function (event) {
  var region = event.detail.target;
  // A form answered in place replaces the page's content whole (outerHTML): the new one, found again by its id.
  if (!region.isConnected && region.id) { region = document.getElementById(region.id) || document.body; }
  var target = region.querySelector("[data-focus], .fr-alert, .fr-error-text, h2, h3") || region;
  if (!target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
  target.focus();
});

// A page that comes back with a refusal puts the focus on it, so the person hears what was refused first.
document.addEventListener("DOMContentLoaded", function () {
  var alert = document.querySelector("[data-focus]");
  if (alert) { alert.focus(); }
});
