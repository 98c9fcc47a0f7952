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

// On a phone a wide table showed one or two of its columns (amounts, deadlines, contracts): each cell is given its
// column's name (data-label), which pacte.css writes before it once the rows are stacked as blocks (below 48em). The
// explicit roles keep the table's meaning for screen readers when its display is no longer a table's; on a desktop
// nothing changes (th scope, caption).
function pacteLabelTables(root) {
  var tables = Array.prototype.slice.call(root.querySelectorAll(".fr-table table"));
  if (root.matches && root.matches(".fr-table table")) { tables.push(root); }
  tables.forEach(function (table) {
    var heads = [];
    table.querySelectorAll("thead th").forEach(function (th) {
      for (var n = 0; n < th.colSpan; n++) { heads.push(th.textContent.trim()); }
    });
    if (!heads.length) { return; }
    table.classList.add("pacte-stacked");
    table.setAttribute("role", "table");
    table.querySelectorAll("thead, tbody").forEach(function (group) { group.setAttribute("role", "rowgroup"); });
    table.querySelectorAll("tr").forEach(function (row) { row.setAttribute("role", "row"); });
    table.querySelectorAll("thead th").forEach(function (th) { th.setAttribute("role", "columnheader"); });
    var spanned = [];  // per column, how many more rows a cell above still covers (rowspan)
    table.querySelectorAll("tbody tr").forEach(function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.children, function (cell) {
        while (spanned[column] > 0) { column += 1; }
        cell.setAttribute("role", cell.tagName === "TH" ? "rowheader" : "cell");
        if (cell.colSpan === 1 && heads[column]) { cell.setAttribute("data-label", heads[column]); }
        for (var n = 0; n < cell.colSpan; n++) { spanned[column + n] = cell.rowSpan; }
        column += cell.colSpan;
      });
      spanned = spanned.map(function (rows) { return rows - 1; });
    });
  });
}
// Every content htmx brings in, not only the page first loaded: a form answered in place (a confirmation page, a
// refusal) replaces its region whole (outerHTML), so the swap's target is the old, detached element — htmx.onLoad
// hands over the new one (and the page's body once, when htmx starts).
if (window.htmx) {
  htmx.onLoad(function (content) { pacteLabelTables(content); });
} else {
  document.addEventListener("DOMContentLoaded", function () { pacteLabelTables(document); });
}
