// Behaviour any page may ask for with a data- attribute. The
// Content-Security-Policy allows no inline script or on…="" attribute, so it
// lives here; every page still works without JavaScript.
(function () {
  "use strict";

  // <select data-autosubmit>: choosing a value sends its form (a <noscript>
  // button does it without JavaScript).
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches("[data-autosubmit]") && field.form) {
      field.form.submit();
    }
  });

  // <button data-print>: print the page.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (button) {
      event.preventDefault();
      window.print();
    }
  });

  // <form data-submit-once>: forms that create something. A second submit
  // (double click, Enter pressed twice) is ignored and the buttons show the
  // form is on its way. The server refuses a duplicate anyway: the form
  // carries a one-time token (core.submissions).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-submit-once")) return;
    if (form.getAttribute("data-submitting") === "1") {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-submitting", "1");
    var buttons = form.querySelectorAll("button, input[type=submit]");
    // After this event: a button disabled now would not send its own name.
    window.setTimeout(function () {
      buttons.forEach(function (button) {
        if (button.type === "submit") {
          button.disabled = true;
          button.setAttribute("aria-busy", "true");
        }
      });
    }, 0);
  });

  // Back to a page the browser kept: its form may be sent again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-submitting]").forEach(function (form) {
      form.removeAttribute("data-submitting");
      form.querySelectorAll("[aria-busy]").forEach(function (button) {
        button.disabled = false;
        button.removeAttribute("aria-busy");
      });
    });
  });
})();
