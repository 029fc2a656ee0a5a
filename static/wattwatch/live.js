// Live events over ws/alerts/: toasts for alerts, the open-alerts badge, a status badge,
// reconnect with backoff, and catch-up on what was missed while disconnected.
(function () {
  "use strict";
  var status = document.getElementById("live-status");
  var toasts = document.getElementById("toasts");
  var badge = document.getElementById("open-alerts");
  var delay = 1000;
  // The server rendered the badge's count as of event `data-cursor`: resume from there, so an
  // event is neither missed nor counted twice, across reloads and reconnects. Event ids are taken
  // when a row is written, not when it commits, so one can arrive after a higher one: the cursor is
  // the highest id seen, a resume also replays what was written just before it, and the ids seen
  // lately (not a comparison with the cursor) say what was shown already.
  var lastEventId = badge ? parseInt(badge.getAttribute("data-cursor") || "", 10) : NaN;
  if (isNaN(lastEventId)) lastEventId = null;
  var pageCursor = lastEventId;
  var seen = new Set();
  var seenOrder = [];

  function remember(id) {
    if (typeof id !== "number") return;
    if (lastEventId === null || id > lastEventId) lastEventId = id;
    if (seen.has(id)) return;
    seen.add(id);
    seenOrder.push(id);
    if (seenOrder.length > 5000) seen.delete(seenOrder.shift());
  }

  function setStatus(text, on) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("on", on);
  }

  function toast(text, url) {
    if (!toasts) return null;
    var node = document.createElement("a");
    node.className = "toast";
    node.setAttribute("role", "status");
    if (url) node.href = url;
    node.textContent = text;
    toasts.appendChild(node);
    node._removal = setTimeout(function () { node.remove(); }, 8000);
    return node;
  }

  // Alerts of one hostel arriving within COLLAPSE_MS of each other share one toast: the first shows
  // at once, the next turn it into "3 new alerts in Hostel A", linking to the inbox for that hostel.
  var COLLAPSE_MS = 2000;
  var inboxUrl = (toasts && toasts.getAttribute("data-inbox")) || "/alerts/";
  var open = {};

  function alertToast(event) {
    var fresh = event.type === "alert.raised";
    var key = (fresh ? "new:" : "worse:") + (event.hostel_id === null || event.hostel_id === undefined ? "-" : event.hostel_id);
    var group = open[key];
    if (group && group.node && group.node.isConnected) {
      group.ids[event.id] = true;
      var count = Object.keys(group.ids).length;
      var where = event.hostel ? " in " + event.hostel : "";
      group.node.textContent = count + (fresh ? " new alerts" : " alerts got worse or were escalated") + where;
      group.node.href = inboxUrl + (typeof event.hostel_id === "number" ? "?hostel=" + event.hostel_id : "");
      clearTimeout(group.node._removal);
      var node = group.node;
      node._removal = setTimeout(function () { node.remove(); }, 8000);
    } else {
      var text = event.severity.toUpperCase() + ": " + event.title + (event.hostel ? " · " + event.hostel : "");
      group = open[key] = { node: toast(text, event.url), ids: {} };
      group.ids[event.id] = true;
    }
    clearTimeout(group.timer);
    group.timer = setTimeout(function () { if (open[key] === group) delete open[key]; }, COLLAPSE_MS);
  }

  // The badge counts open (unacknowledged) alerts; each event says the status before and after.
  function updateBadge(event) {
    if (!badge) return;
    var count = parseInt(badge.getAttribute("data-count") || "0", 10);
    var was = event.previous_status === "open";
    var now = event.status === "open";
    if (was === now) return;
    setBadge(count + (now ? 1 : -1));
  }

  function setBadge(value) {
    if (!badge) return;
    var count = Math.max(0, value);
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
      } else if (event.type === "hello" && lastEventId === null) {
        // No cursor on this page: start from the server's (0 when there is no event yet), so that a
        // socket dropped before its first event still resumes from here and misses nothing.
        lastEventId = typeof event.last_event_id === "number" ? event.last_event_id : 0;
        pageCursor = lastEventId;
      } else if (event.type === "resumed") {
        // More was missed than a resume replays: the page itself is out of date.
        if (event.complete === false) location.reload();
        if (typeof event.open_alerts === "number") setBadge(event.open_alerts);
      } else if (event.type === "history.scanned") {
        // One toast per scanned hostel; its findings were stored quietly (found in history).
        toast(event.title, event.url);
      } else if (event.type && event.type.indexOf("alert.") === 0) {
        if (typeof event.event_id === "number" && seen.has(event.event_id)) return;
        remember(event.event_id);
        updateBadge(event);
        // An event numbered at or before the page's cursor may already be in what the page showed:
        // it updates the page quietly (the badge is set right again when the resume ends).
        var old = typeof event.event_id === "number" && pageCursor !== null && event.event_id <= pageCursor;
        if (!old && (event.type === "alert.raised" || event.action === "escalated" || event.action === "worsened")) {
          alertToast(event);
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
