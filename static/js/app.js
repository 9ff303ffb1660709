// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Tell the server the browser's time zone, so signed-out visitors see their own times.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("baraza_tz=" + encodeURIComponent(zone)) === -1) {
      document.cookie = "baraza_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* old browser: UTC it is */ }

  // Signed out (no sign-out form on the page): notes kept in this browser for offline editing go too, so a
  // closed session's notes do not stay behind on a shared computer.
  if (!document.querySelector("form[action$='/logout']") && window.indexedDB && indexedDB.databases) {
    indexedDB.databases().then(function (databases) {
      databases.forEach(function (db) {
        if (db.name && db.name.indexOf("baraza-notes-") === 0) indexedDB.deleteDatabase(db.name);
      });
    }).catch(function () { /* nothing kept, or not allowed: nothing to clear */ });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { window.print(); }
    var copy = event.target.closest("input.copy");
    if (copy) { copy.select(); }
  });
})();
