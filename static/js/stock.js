// Small enhancements for the stock screens; every page works without them.
(function () {
  "use strict";
  // Archive form: show "method & witnesses" only for a destroyed item and
  // "incident reference" only for a lost or stolen one.
  document.querySelectorAll("form[data-archive-form]").forEach(function (form) {
    var reason = form.querySelector("select[name=reason]");
    if (!reason) return;
    function update() {
      form.querySelectorAll("[data-show-for]").forEach(function (block) {
        var hasError = block.querySelector(".errorlist");
        block.hidden = !hasError && block.getAttribute("data-show-for") !== reason.value;
      });
    }
    reason.addEventListener("change", update);
    update();
  });
})();
