// 流程图预览 (/guide/<matter>/modeler): the deployed BPMN drawn by bpmn-js, as Camunda Modeler and bpmn.io
// show it. bpmn-js is vendored under static/vendor/bpmn-js (no CDN); this file only loads the diagram.
(function () {
  "use strict";
  var holder = document.getElementById("bpmn-viewer");
  if (!holder || typeof window.BpmnJS === "undefined") {
    return;
  }
  var failed = document.getElementById("bpmn-viewer-error");
  var viewer = new window.BpmnJS({ container: holder });
  fetch(holder.getAttribute("data-src"), { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.text();
    })
    .then(function (xml) {
      return viewer.importXML(xml);
    })
    .then(function () {
      viewer.get("canvas").zoom("fit-viewport");
      holder.setAttribute("data-state", "shown");
    })
    .catch(function (err) {
      holder.setAttribute("data-state", "error");
      if (failed) {
        failed.hidden = false;
        failed.setAttribute("title", String(err));
      }
    });
})();
