// The only script (inline handlers are blocked by the Content-Security-Policy): print buttons on notices, and
// the focus on the first field a submitted form got back with an error, so keyboard and screen-reader users
// land where the fix is (the error is tied to the field with aria-describedby).
document.addEventListener("click", function (event) {
  var target = event.target;
  if (target instanceof Element && target.closest("[data-print]")) {
    event.preventDefault();
    window.print();
  }
});

document.addEventListener("DOMContentLoaded", function () {
  var invalid = document.querySelector('[aria-invalid="true"]');
  if (!invalid) {
    return;
  }
  var target = invalid.matches("fieldset") ? invalid.querySelector("input, select, textarea") : invalid;
  if (target) {
    target.focus();
  }
});

// 常用意见: a phrase button (or the fallback select) inserts its text into the text area of its form that last
// had the focus, at the caret (replacing a selection), as Camunda Tasklist and Flowable forms do: a task with
// an opinion and, say, rectification requirements gets the phrase where the clerk was writing. Before any text
// area of the form had the focus, the phrase goes to the end of the one the button names (the opinion).
var lastTextArea = new WeakMap(); // form → its text area focused last
document.addEventListener("focusin", function (event) {
  var field = event.target;
  if (field instanceof HTMLTextAreaElement && field.form && !field.readOnly && !field.disabled) {
    lastTextArea.set(field.form, field);
  }
});
function phraseField(control) {
  var form = control.closest("form");
  var last = form ? lastTextArea.get(form) : null;
  if (last && last.isConnected && !last.disabled) return { field: last, atCaret: true };
  return { field: document.getElementById(control.getAttribute("data-target")), atCaret: false };
}
function insertPhrase(target, text) {
  var field = target.field;
  if (!field || !text) return;
  var start = target.atCaret && field.selectionStart != null ? field.selectionStart : field.value.length;
  var end = target.atCaret && field.selectionEnd != null ? field.selectionEnd : field.value.length;
  field.value = field.value.slice(0, start) + text + field.value.slice(end);
  field.focus();
  field.selectionStart = field.selectionEnd = start + text.length;
  field.dispatchEvent(new Event("input", { bubbles: true }));
}
document.addEventListener("click", function (event) {
  var button = event.target instanceof Element ? event.target.closest("[data-phrase]") : null;
  if (!button) return;
  event.preventDefault();
  insertPhrase(phraseField(button), button.getAttribute("data-phrase"));
});
document.addEventListener("change", function (event) {
  var select = event.target;
  if (!(select instanceof HTMLSelectElement) || !select.hasAttribute("data-phrase-select")) return;
  insertPhrase(phraseField(select), select.value);
  select.selectedIndex = 0;
});

// Keyboard shortcuts of the worklist (listed at /help/shortcuts): never while typing in a field.
function typing(target) {
  return target instanceof Element
    && (target.isContentEditable || target.closest("input, textarea, select, [contenteditable='true']") !== null);
}
document.addEventListener("keydown", function (event) {
  if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
  var key = event.key;
  if (key === "?") {
    var help = document.querySelector("[data-nav='shortcuts']");
    if (help) { event.preventDefault(); window.location.href = help.getAttribute("href"); }
    return;
  }
  if (key === "/") {
    var search = document.getElementById("filter-q");
    if (search) { event.preventDefault(); search.focus(); }
    return;
  }
  var table = document.querySelector("table[data-shortcuts='worklist']");
  if (!table) return;
  var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-task-id]"));
  if (!rows.length) return;
  var index = rows.findIndex(function (row) { return row.classList.contains("current"); });
  var row = index >= 0 ? rows[index] : null;
  function select(next) {
    if (row) { row.classList.remove("current"); row.removeAttribute("aria-current"); }
    next.classList.add("current");
    next.setAttribute("aria-current", "true");
    next.scrollIntoView({ block: "nearest" });
  }
  if (key === "j") { event.preventDefault(); select(rows[Math.min(index + 1, rows.length - 1)]); }
  else if (key === "k") { event.preventDefault(); select(rows[Math.max(index - 1, 0)]); }
  else if (!row) { return; }
  else if (key === "x") {
    var pick = row.querySelector("input.pick");
    if (pick && !pick.disabled) { event.preventDefault(); pick.checked = !pick.checked; }
  } else if (key === "c") {
    var claim = row.querySelector("form[name='claim']");
    if (claim) { event.preventDefault(); claim.submit(); }
  } else if (key === "o" || key === "Enter") {
    var open = row.querySelector("a.task-link");
    if (open) { event.preventDefault(); window.location.href = open.getAttribute("href"); }
  }
});
