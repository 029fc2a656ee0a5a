/* Wattwatch's service worker (served at /sw.js, scope /): shows Web Push messages even with every tab
   closed, opens the alert when one is tapped, and says "offline" instead of the browser's error page. */
"use strict";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (error) {
    message = { title: "Wattwatch", body: event.data ? event.data.text() : "" };
  }
  const title = message.title || "Wattwatch alert";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: message.body || "",
      tag: message.tag || undefined,
      renotify: Boolean(message.tag),
      icon: "/static/wattwatch/icon-192.png",
      badge: "/static/wattwatch/icon-192.png",
      requireInteraction: message.severity === "critical",
      data: { url: message.url || "/alerts/" },
    })
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || "/alerts/", self.location.origin);
  if (target.origin !== self.location.origin) return;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const client of windows) {
        if (new URL(client.url).origin === target.origin && "focus" in client) {
          client.navigate(target.href);
          return client.focus();
        }
      }
      return self.clients.openWindow(target.href);
    })
  );
});

const OFFLINE = "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>" +
  "<title>Offline · Wattwatch</title><body style='font-family:system-ui;margin:2rem'>" +
  "<h1>Wattwatch is out of reach</h1><p>This device is offline or the server cannot be reached. " +
  "Alerts keep arriving as notifications; try again when the connection is back.</p>";

self.addEventListener("fetch", (event) => {
  if (event.request.mode !== "navigate") return;
  event.respondWith(
    fetch(event.request).catch(() => new Response(OFFLINE, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } }))
  );
});
