// Live countdowns (progressive enhancement: the page already shows the time left when served).
(function () {
  function fmt(ms) {
    var over = ms < 0, s = Math.floor(Math.abs(ms) / 1000);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    var text = h ? h + "小时" + pad(m) + "分" : m + "分" + pad(sec) + "秒";
    return (over ? "已超时 " : "剩余 ") + text;
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time.countdown").forEach(function (el) {
      var due = Date.parse(el.getAttribute("datetime"));
      if (isNaN(due)) return;
      el.textContent = fmt(due - now);
      el.classList.toggle("overdue", due <= now);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 1000); });
})();
