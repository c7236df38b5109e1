/* The console's only script: it refreshes the parts of a page that follow work in progress.
   An element with data-poll="URL" is replaced, every data-poll-ms milliseconds, by what URL
   answers, until the answer carries data-poll-done; with data-reload-when-done the whole
   page is then loaded again. Without a session the page is reloaded (and goes to sign-in).
   Everything else in the console works without JavaScript. */
(function () {
  "use strict";

  function poll(element) {
    var url = element.getAttribute("data-poll");
    var every = parseInt(element.getAttribute("data-poll-ms") || "1000", 10);
    var timer = null;

    function done() {
      return element.querySelector("[data-poll-done]") !== null;
    }

    function tick() {
      fetch(url, {
        credentials: "same-origin",
        headers: { "X-Console-Fragment": "1" },
        cache: "no-store"
      })
        .then(function (response) {
          if (response.status === 401) {
            window.location.reload();
            return null;
          }
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html === null) {
            timer = window.setTimeout(tick, every * 2);
            return;
          }
          element.innerHTML = html;
          if (done()) {
            if (element.hasAttribute("data-reload-when-done")) {
              window.location.reload();
            }
            return;
          }
          timer = window.setTimeout(tick, every);
        })
        .catch(function () {
          timer = window.setTimeout(tick, every * 2);
        });
    }

    if (!done()) {
      timer = window.setTimeout(tick, every);
    }
    return timer;
  }

  function selectAll(box) {
    box.addEventListener("change", function () {
      var form = box.form;
      if (!form) {
        return;
      }
      var boxes = form.querySelectorAll("input[type=checkbox][name=" + box.getAttribute("data-select-all") + "]");
      for (var i = 0; i < boxes.length; i += 1) {
        boxes[i].checked = box.checked;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var polled = document.querySelectorAll("[data-poll]");
    for (var i = 0; i < polled.length; i += 1) {
      poll(polled[i]);
    }
    var all = document.querySelectorAll("[data-select-all]");
    for (var j = 0; j < all.length; j += 1) {
      selectAll(all[j]);
    }
  });
})();
