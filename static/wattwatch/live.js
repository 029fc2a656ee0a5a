// Live events over ws/alerts/: toasts for alerts, the open-alerts badge, a status badge,
// reconnect with backoff, and catch-up on what was missed while disconnected.
(function () {
  "use strict";
  var status = document.getElementById("live-status");
  var toasts = document.getElementById("toasts");
  var badge = document.getElementById("open-alerts");
  var delay = 1000;
  // The server rendered the badge's count as of event `data-cursor`: resume from there, so an
  // event is neither missed nor counted twice, across reloads and reconnects.
  var lastEventId = badge ? parseInt(badge.getAttribute("data-cursor") || "", 10) : NaN;
  if (isNaN(lastEventId)) lastEventId = null;

  function remember(id) {
    if (typeof id !== "number" || (lastEventId !== null && id <= lastEventId)) return;
    lastEventId = id;
  }

  function setStatus(text, on) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("on", on);
  }

  function toast(text, url) {
    if (!toasts) return;
    var node = document.createElement(url ? "a" : "div");
    node.className = "toast";
    node.setAttribute("role", "status");
    if (url) node.href = url;
    node.textContent = text;
    toasts.appendChild(node);
    setTimeout(function () { node.remove(); }, 8000);
  }

  // The badge counts open (unacknowledged) alerts; each event says the status before and after.
  function updateBadge(event) {
    if (!badge) return;
    var count = parseInt(badge.getAttribute("data-count") || "0", 10);
    var was = event.previous_status === "open";
    var now = event.status === "open";
    if (was === now) return;
    count = Math.max(0, count + (now ? 1 : -1));
    badge.setAttribute("data-count", String(count));
    badge.setAttribute("aria-label", count + " open alert" + (count === 1 ? "" : "s"));
    badge.textContent = String(count);
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws/alerts/");
    socket.onopen = function () {
      delay = 1000;
      setStatus("live", true);
      // The server replays, oldest first, what this user may see after the last event we showed.
      if (lastEventId !== null) socket.send(JSON.stringify({ type: "resume", since: lastEventId }));
    };
    socket.onmessage = function (message) {
      var event = JSON.parse(message.data);
      if (event.type === "system.heartbeat") {
        setStatus("live", true);
        status && (status.title = "Worker heartbeat at " + event.at);
      } else if (event.type === "hello" && lastEventId === null && typeof event.last_event_id === "number") {
        remember(event.last_event_id);
      } else if (event.type && event.type.indexOf("alert.") === 0) {
        if (typeof event.event_id === "number" && lastEventId !== null && event.event_id <= lastEventId) return;
        remember(event.event_id);
        updateBadge(event);
        if (event.type === "alert.raised" || event.action === "escalated") {
          toast(event.severity.toUpperCase() + ": " + event.title + (event.hostel ? " · " + event.hostel : ""), event.url);
        }
        document.dispatchEvent(new CustomEvent("wattwatch:alert", { detail: event }));
      }
    };
    socket.onclose = function () {
      setStatus("reconnecting", false);
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
