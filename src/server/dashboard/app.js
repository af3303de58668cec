// The dashboard page: reads /dashboard/state.json, and again (at most every 500 ms) whenever /events
// reports something. Every value from the node is set as text, never as markup: manifest IDs and
// orchestrator replies come from strangers.

const $ = (id) => document.getElementById(id);
let selected = null;
let hls = null;
let playing = null;
let refreshTimer = null;

const WEI_PER_ETH = 10n ** 18n;

/** "0.012345 ETH" from a decimal wei string, exact to 6 decimals. */
function eth(wei) {
  if (wei === undefined || wei === null) return '–';
  const v = BigInt(wei);
  const whole = v / WEI_PER_ETH;
  const frac = ((v % WEI_PER_ETH) * 1000000n) / WEI_PER_ETH;
  return `${whole}.${frac.toString().padStart(6, '0')} ETH`;
}

/** 1234567 → "1 234 567" for wei amounts that are easier read grouped. */
function grouped(s) {
  return String(s).replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
}

function cell(row, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  td.title = text;
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

/** One line per rendition (the source first): its name and the segments in its playlist. */
function renditionsCell(row, renditions) {
  const td = document.createElement('td');
  td.className = 'rends';
  const list = document.createElement('ul');
  for (const r of renditions) {
    const li = document.createElement('li');
    li.dataset.rendition = r.name;
    const name = document.createElement('span');
    name.className = 'rn';
    name.textContent = r.name;
    name.title = r.name;
    const count = document.createElement('span');
    count.className = 'rc';
    count.textContent = String(r.segments);
    li.append(name, count);
    list.appendChild(li);
  }
  td.appendChild(list);
  row.appendChild(td);
}

/** Replaces a table body's rows in place, keeping rows by key so the layout does not jump. */
function renderRows(tbody, items, key, fill) {
  const existing = new Map([...tbody.rows].map((r) => [r.dataset.key, r]));
  const wanted = new Set(items.map(key));
  for (const [k, row] of existing) if (!wanted.has(k)) row.remove();
  items.forEach((item, i) => {
    const k = key(item);
    let row = existing.get(k);
    if (!row) {
      row = document.createElement('tr');
      row.dataset.key = k;
    }
    row.replaceChildren();
    fill(row, item);
    if (tbody.rows[i] !== row) tbody.insertBefore(row, tbody.rows[i] ?? null);
  });
}

function play(stream) {
  if (playing === stream.playlist) return;
  playing = stream.playlist;
  const video = $('player');
  if (hls) hls.destroy();
  hls = null;
  $('player-caption').textContent = `${stream.manifestId} — source and renditions (adaptive)`;
  if (window.Hls?.isSupported()) {
    hls = new window.Hls({ liveSyncDurationCount: 2, enableWorker: true });
    hls.loadSource(stream.playlist);
    hls.attachMedia(video);
  } else {
    video.src = stream.playlist;
  }
  video.play().catch(() => {});
}

function stopPlayer() {
  if (hls) hls.destroy();
  hls = null;
  playing = null;
  const video = $('player');
  video.removeAttribute('src');
  video.load();
  $('player-caption').textContent = 'No stream selected';
}

function render(state) {
  const n = state.node;
  $('node').textContent = `v${n.version} · ${n.network}${n.address ? ` · ${n.address}` : ''} · HLS ${n.hls}`;
  $('logout').hidden = !n.login;
  $('m-streams').textContent = String(state.streams.length);
  const m = state.money;
  $('m-spent').textContent = eth(m.LastHourSpentWei);
  $('m-deposit').textContent = m.DepositWei === undefined ? 'off-chain' : eth(m.DepositWei);
  $('m-reserve').textContent = m.ReserveWei === undefined ? '' : `reserve ${eth(m.ReserveWei)}`;
  $('m-runway').textContent = m.DepositRunway;

  const streams = state.streams;
  $('streams-empty').hidden = streams.length > 0;
  if (!streams.some((s) => s.manifestId === selected)) selected = streams[0]?.manifestId ?? null;
  renderRows(
    $('streams').tBodies[0],
    streams,
    (s) => s.manifestId,
    (row, s) => {
      row.className = s.manifestId === selected ? 'selected' : '';
      row.onclick = () => {
        selected = s.manifestId;
        render(state);
      };
      cell(row, s.manifestId);
      cell(row, s.ingest.toUpperCase());
      renditionsCell(row, s.renditions);
      cell(row, `${s.transcodedSegments}${s.failedSegments ? ` · ${s.failedSegments} failed` : ''}`, 'num');
      cell(row, s.orchestrator ?? 'waiting for one');
    },
  );
  const current = streams.find((s) => s.manifestId === selected);
  if (current) play(current);
  else if (playing) stopPlayer();

  const orchs = state.orchestrators;
  $('orchs-empty').hidden = orchs.length > 0;
  renderRows(
    $('orchs').tBodies[0],
    orchs,
    (o) => o.uri,
    (row, o) => {
      cell(row, o.uri);
      cell(row, o.state, `state-${o.state.replace(/\s+/g, '-')}`);
      cell(row, o.pricePerPixelWei ?? '–', 'num');
      cell(row, o.latencyMs === null ? '–' : `${o.latencyMs} ms`, 'num');
      cell(row, String(o.segments), 'num');
      cell(row, o.successRate === null ? '–' : `${Math.round(o.successRate * 100)} %`, 'num');
      cell(row, grouped(o.sentWei), 'num');
      cell(row, o.reason || '–');
    },
  );

  const list = $('events');
  $('events-empty').hidden = state.events.length > 0;
  list.replaceChildren(
    ...state.events.map((e) => {
      const li = document.createElement('li');
      const t = document.createElement('span');
      t.className = 't';
      t.textContent = new Date(e.at).toLocaleTimeString();
      const name = document.createElement('span');
      name.className = `n ${e.name.split('.')[1]}`;
      name.textContent = e.name;
      const d = document.createElement('span');
      d.className = 'd';
      d.textContent = JSON.stringify(e.payload);
      d.title = d.textContent;
      li.append(t, name, d);
      return li;
    }),
  );
}

async function refresh() {
  refreshTimer = null;
  try {
    const res = await fetch('/dashboard/state.json', { cache: 'no-store' });
    if (res.ok) render(await res.json());
  } catch {
    // the next event or the periodic refresh tries again
  }
}

function soon() {
  if (refreshTimer === null) refreshTimer = setTimeout(refresh, 500);
}

function connect() {
  const source = new EventSource('/events');
  source.onopen = () => {
    $('live').textContent = 'live';
    $('live').className = 'pill on';
    soon();
  };
  source.onerror = () => {
    $('live').textContent = 'reconnecting';
    $('live').className = 'pill';
  };
  for (const name of [
    'stream.started',
    'stream.ended',
    'stream.error',
    'segment.transcoded',
    'segment.failed',
    'payment.sent',
    'orchestrator.swapped',
    'orchestrator.suspended',
    'ticket.refused',
    'deposit.low',
  ]) {
    source.addEventListener(name, soon);
  }
}

refresh();
connect();
// counters that change without an event (latency, pool state) still move
setInterval(refresh, 5000);
