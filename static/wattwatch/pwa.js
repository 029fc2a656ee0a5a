/* Registers the service worker on every page, so the product can be installed and receive pushes. */
"use strict";
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((error) => {
    console.warn("Wattwatch: service worker not registered:", error.message);
  });
}
