/* The settings page's "Allow notifications on this device": asks the browser, subscribes with this
   installation's VAPID key, and hands the subscription to the server (or takes it back). */
"use strict";
(function () {
  const box = document.getElementById("push-device");
  if (!box) return;
  const status = box.querySelector("[data-push-status]");
  const on = box.querySelector("[data-push-on]");
  const off = box.querySelector("[data-push-off]");
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  const say = (text) => { status.textContent = text; };

  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    say("This browser cannot receive push notifications. On an iPhone, add Wattwatch to the home screen first.");
    on.disabled = true;
    return;
  }

  function keyBytes(base64url) {
    const padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.detail || response.statusText);
    return answer;
  }

  async function current() {
    const registration = await navigator.serviceWorker.getRegistration("/");
    return registration ? registration.pushManager.getSubscription() : null;
  }

  async function show() {
    const subscription = await current();
    on.hidden = Boolean(subscription);
    off.hidden = !subscription;
    if (subscription) say("Notifications are on for this device.");
    else if (Notification.permission === "denied") say("Notifications are blocked for this site in the browser's settings.");
    else say("Notifications are off for this device.");
  }

  on.addEventListener("click", async () => {
    try {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        say("The browser did not allow notifications.");
        return;
      }
      const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
      await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(box.dataset.vapidKey),
      });
      const answer = await post(box.dataset.subscribe, subscription.toJSON());
      say(answer.detail);
      on.hidden = true;
      off.hidden = false;
    } catch (error) {
      say("Could not turn notifications on: " + error.message);
    }
  });

  off.addEventListener("click", async () => {
    try {
      const subscription = await current();
      if (subscription) {
        await post(box.dataset.unsubscribe, { endpoint: subscription.endpoint });
        await subscription.unsubscribe();
      }
      await show();
    } catch (error) {
      say("Could not turn notifications off: " + error.message);
    }
  });

  show();
})();
