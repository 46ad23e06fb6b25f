/* The phone dashboard's script (docs/dashboard-web.md). No token ever passes through here: the
 * login answer sets an HttpOnly cookie, and the figures are read with it (GET only). */
(function () {
  'use strict';
  var W = JSON.parse(document.body.dataset.words);
  var REFRESH_MS = 30000;
  var timer = null;
  var lastAt = null;       // the moment of the last figures shown (hub time, ISO)
  var tz = 'Asia/Shanghai';
  var charts = {};

  function $(id) { return document.getElementById(id); }
  function fill(text, vals) {
    return text.replace(/\{(\w+)\}/g, function (_m, k) { return vals[k] === undefined ? '' : String(vals[k]); });
  }
  function pct(rate) { return rate === null || rate === undefined ? '–' : (rate * 100).toFixed(1) + '%'; }
  function clock(iso) {
    try {
      return new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', second: '2-digit',
                                                hour12: false }).format(new Date(iso));
    } catch (e) { return new Date(iso).toTimeString().slice(0, 8); }
  }
  function setNum(id, text, value) {
    var el = $(id);
    el.textContent = text;
    el.dataset.value = value === null || value === undefined ? '' : String(value);
  }

  // -- views ------------------------------------------------------------------------------------
  function showLogin(message) {
    stop();
    $('board').hidden = true;
    $('logout').hidden = true;
    $('login').hidden = false;
    var err = $('login-error');
    err.textContent = message || '';
    err.hidden = !message;
    $('pin').value = '';
  }
  function showBoard() {
    $('login').hidden = true;
    $('board').hidden = false;
    $('logout').hidden = false;
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
  }

  // -- login / logout ---------------------------------------------------------------------------
  function loginError(status, body) {
    var code = body && body.error;
    var d = (body && body.details) || {};
    if (code === 'login_throttled') return fill(W.login_throttled, { s: d.retry_after_s || 1 });
    if (code === 'login_locked') return fill(W.login_locked, { m: Math.ceil((d.retry_after_s || 60) / 60) });
    if (code && W[code]) return W[code];
    if (window.console) console.warn('login refused', status, code);  // for whoever debugs; the words stay in one language
    return W.login_failed;
  }
  $('login-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var button = $('login-submit');
    button.disabled = true;
    var err = $('login-error');
    err.hidden = false;
    err.textContent = W.logging_in;
    fetch('/dashboard/login', {
      method: 'POST', credentials: 'same-origin', cache: 'no-store',
      headers: { 'Content-Type': 'application/json', 'X-PackDesk-Dashboard': '1' },
      body: JSON.stringify({ operator: $('operator').value.trim().toUpperCase(), pin: $('pin').value })
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (body) {
        button.disabled = false;
        if (!r.ok) { showLogin(loginError(r.status, body)); return; }
        err.hidden = true;
        $('pin').value = '';
        showBoard();
        refresh();
      });
    }).catch(function () { button.disabled = false; showLogin(W.network_error); });
  });
  $('logout').addEventListener('click', function () {
    fetch('/dashboard/logout', { method: 'POST', credentials: 'same-origin', headers: { 'X-PackDesk-Dashboard': '1' } })
      .finally(function () { showLogin(''); });
  });

  // -- refresh ----------------------------------------------------------------------------------
  function stop() { if (timer !== null) { clearTimeout(timer); timer = null; } }
  function schedule() { stop(); timer = setTimeout(refresh, REFRESH_MS); }

  function get(url) {
    return fetch(url, { credentials: 'same-origin', cache: 'no-store' }).then(function (r) {
      if (r.status === 401) { var e = new Error('401'); e.unauthorized = true; throw e; }
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    });
  }

  function refresh() {
    stop();
    var wh = $('warehouse').value;
    var q = wh ? '?warehouse=' + encodeURIComponent(wh) : '';
    var status = $('status');
    get('/api/v1/metrics/dashboard' + q).then(function (d) {
      var day = d.slice.to;
      return get('/api/v1/metrics/touchpoint?by=day&from=' + day + '&to=' + day).then(function (t) {
        tz = d.slice.tz || tz;
        render(d, t);
        lastAt = d.at;
        status.textContent = fill(W.updated_at, { t: clock(d.at) });
        status.className = 'status';
        status.dataset.state = 'ok';
        showBoard();
        schedule();
      });
    }).catch(function (e) {
      if (e && e.unauthorized) { showLogin(lastAt ? W.session_ended : ''); return; }
      // keep the last figures on the page and say how old they are
      status.textContent = '! ' + fill(W.refresh_failed, { t: lastAt ? clock(lastAt) : '–' });
      status.className = 'status failed';
      status.dataset.state = 'failed';
      if ($('board').hidden && $('login').hidden) showBoard();  // the hub unreachable on the first load
      schedule();
    });
  }
  $('warehouse').addEventListener('change', refresh);

  // -- drawing ----------------------------------------------------------------------------------
  function chart(id) {
    if (!window.echarts) return null;
    if (!charts[id]) charts[id] = window.echarts.init($(id), null, { renderer: 'canvas' });
    return charts[id];
  }
  window.addEventListener('resize', function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });

  function render(d, t) {
    var by = d.states.by_state;
    var backlog = d.benches.benches.reduce(function (n, b) { return n + b.backlog; }, 0);
    var shipped = (by.shipped || 0) + (by.delivered || 0);
    setNum('n-total', String(d.states.total), d.states.total);
    setNum('n-shipped', String(shipped), shipped);
    setNum('n-held', String(d.states.held), d.states.held);
    setNum('n-delay', pct(d.delay.rate), d.delay.rate);
    setNum('n-backlog', String(backlog), backlog);
    setNum('n-failing', String(d.connectors.failing), d.connectors.failing);
    drawStates(by);
    drawFulfilment(d.fulfilment);
    drawExceptions(d.exceptions);
    fillShort(d.short_stock);
    fillBenches(d.benches.benches);
    var tot = t.total;
    setNum('t-contacts', String(tot.contacts), tot.contacts);
    setNum('t-waiting', String(tot.waiting_reply), tot.waiting_reply);
    setNum('t-reply', tot.reply_median_s === null ? '–' : fill(W.minutes, { n: Math.round(tot.reply_median_s / 60) }),
           tot.reply_median_s);
    setNum('t-4h', pct(tot.closed_within_4h_share), tot.closed_within_4h_share);
  }

  function drawStates(by) {
    var c = chart('chart-states');
    if (!c) return;
    var data = Object.keys(by).filter(function (s) { return by[s] > 0; })
      .map(function (s) { return { name: W['state.' + s] || s, value: by[s], state: s }; });
    c.setOption({
      tooltip: { trigger: 'item' },
      legend: { bottom: 0, type: 'scroll' },
      series: [{ type: 'pie', radius: ['42%', '66%'], center: ['50%', '44%'], avoidLabelOverlap: true,
                 label: { formatter: '{b}\n{c}' }, data: data }]
    }, true);
  }

  function drawFulfilment(f) {
    var c = chart('chart-fulfilment');
    if (!c) return;
    function rates(hours) { return hours.map(function (h) { return h.rate === null ? null : Math.round(h.rate * 1000) / 10; }); }
    c.setOption({
      tooltip: { trigger: 'axis', valueFormatter: function (v) { return v === null || v === undefined ? '–' : v + '%'; } },
      legend: { bottom: 0 },
      grid: { left: 40, right: 12, top: 16, bottom: 48 },
      xAxis: { type: 'category', data: f.hours.map(function (h) { return h.hour.slice(0, 2); }) },
      yAxis: { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
      series: [
        { name: W.today, type: 'line', data: rates(f.hours), connectNulls: true, symbolSize: 5 },
        { name: W.last_week, type: 'line', data: rates(f.last_week.hours), connectNulls: true, symbolSize: 4,
          lineStyle: { type: 'dashed' } }
      ]
    }, true);
  }

  function drawExceptions(x) {
    var types = x.types.slice().sort(function (a, b) { return a.count - b.count; });  // largest on top
    var c = chart('chart-exceptions');
    if (c) {
      c.setOption({
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
        grid: { left: 8, right: 28, top: 8, bottom: 8, containLabel: true },
        xAxis: { type: 'value', minInterval: 1 },
        yAxis: { type: 'category', data: types.map(function (t) { return W['hold.' + t.type] || t.type; }),
                 axisLabel: { width: 140, overflow: 'truncate' } },
        series: [{ type: 'bar', data: types.map(function (t) { return t.count; }), label: { show: true, position: 'right' } }],
        graphic: types.length ? [] : [{ type: 'text', left: 'center', top: 'middle', style: { text: W.none_yet, fill: '#7a8494' } }]
      }, true);
    }
    var words = x.words.slice(0, 12).map(function (w) { return w.word + '×' + w.count; });
    $('reason-words').textContent = words.length ? words.join('  ') : W.none_yet;
  }

  function cell(tr, text, cls) {
    var td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }
  function emptyRow(tbody, cols) {
    var tr = document.createElement('tr');
    tr.className = 'empty';
    var td = cell(tr, W.none_yet);
    td.colSpan = cols;
    tbody.appendChild(tr);
  }
  function warehouseLabel(code) {
    var opt = $('warehouse').querySelector('option[value="' + code.replace(/"/g, '') + '"]');
    // the short name in a table cell: "East China (Shanghai)" -> "East China"
    return opt ? opt.textContent.replace(/\s*[(（].*$/, '') || code : code;
  }

  function fillShort(s) {
    var rows = [];
    s.warehouses.forEach(function (w) { w.skus.forEach(function (k) { rows.push({ wh: w.warehouse, k: k }); }); });
    rows.sort(function (a, b) { return b.k.short - a.k.short || b.k.orders - a.k.orders || (a.k.sku < b.k.sku ? -1 : 1); });
    var tbody = $('short-table').tBodies[0];
    tbody.textContent = '';
    rows.slice(0, 5).forEach(function (r) {
      var tr = document.createElement('tr');
      tr.dataset.sku = r.k.sku;
      cell(tr, r.k.sku); cell(tr, r.k.name || ''); cell(tr, warehouseLabel(r.wh));
      cell(tr, String(r.k.short), 'r'); cell(tr, String(r.k.orders), 'r');
      tbody.appendChild(tr);
    });
    if (!rows.length) emptyRow(tbody, 5);
  }

  // A bench is behind when its oldest order has waited two hours or more (docs/dashboard-web.md).
  var BEHIND_MIN = 120;
  function waited(min) {
    if (min === null || min === undefined) return '–';
    if (min < 60) return fill(W.minutes, { n: min });
    return fill(W.hours_minutes, { h: Math.floor(min / 60), m: min % 60 });
  }
  function fillBenches(benches) {
    var tbody = $('bench-table').tBodies[0];
    tbody.textContent = '';
    benches.forEach(function (b) {
      var tr = document.createElement('tr');
      tr.dataset.bench = b.bench;
      var behind = b.oldest_wait_min !== null && b.oldest_wait_min >= BEHIND_MIN;
      var first = cell(tr, b.bench);
      if (behind) {
        tr.className = 'behind';
        var flag = document.createElement('span');
        flag.className = 'flag';
        flag.textContent = '▲ ' + W.behind;
        first.appendChild(flag);
      }
      cell(tr, String(b.backlog), 'r');
      cell(tr, waited(b.oldest_wait_min), 'r');
      cell(tr, String(b.per_hour), 'r');
      cell(tr, b.hours_to_clear === null ? '–' : fill(W.hours, { n: b.hours_to_clear }), 'r');
      tbody.appendChild(tr);
    });
    if (!benches.length) emptyRow(tbody, 5);
  }

  // -- start: the figures if the cookie still holds a session, else the login form ----------------
  refresh();
})();
