// Live events over ws/alerts/: toasts for alerts, a status badge, reconnect with backoff.
(function () {
  "use strict";
  var status = document.getElementById("live-status");
  var toasts = document.getElementById("toasts");
  var delay = 1000;

  function setStatus(text, on) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("on", on);
  }

  function toast(text) {
    var node = document.createElement("div");
    node.className = "toast";
    node.setAttribute("role", "status");
    node.textContent = text;
    toasts.appendChild(node);
    setTimeout(function () { node.remove(); }, 8000);
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws/alerts/");
    socket.onopen = function () { delay = 1000; setStatus("live", true); };
    socket.onmessage = function (message) {
      var event = JSON.parse(message.data);
      if (event.type === "system.heartbeat") {
        setStatus("live", true);
        status && (status.title = "Worker heartbeat at " + event.at);
      } else if (event.type && event.type.indexOf("alert.") === 0) {
        toast(event.severity.toUpperCase() + ": " + event.title);
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
