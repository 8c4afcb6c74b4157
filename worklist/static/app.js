// The only script: print buttons on notices (inline handlers are blocked by the Content-Security-Policy).
document.addEventListener("click", function (event) {
  var target = event.target;
  if (target instanceof Element && target.closest("[data-print]")) {
    event.preventDefault();
    window.print();
  }
});
