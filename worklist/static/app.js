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
