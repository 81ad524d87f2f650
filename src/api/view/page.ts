// The page behind GET /v1/videos/{id}/view: the video (annotated) with its timeline under it — one
// row for the whole video and one per person (per track without identities) — a cursor that follows
// playback, and a click on any row seeks there. One self-contained HTML document, no build step and
// no framework: the script fetches the result and the video through the same API (with the token
// from the page's `#token=…` fragment, which browsers never send to servers or logs), so the page
// itself carries no data and needs no token.

import { CHART_PALETTE } from '../../results/index.ts';

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1000px; }
h1 { font-size: 18px; margin: 0 0 4px; } #meta { color: #666; margin: 0 0 12px; }
video { width: 100%; max-height: 60vh; background: #111; display: block; }
#msg { color: #a33; } #chart { position: relative; margin-top: 12px; user-select: none; }
.row { display: flex; align-items: center; height: 26px; margin: 3px 0; }
.row .name { width: 150px; flex: none; font-size: 12px; color: #444; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
.row .lane { position: relative; flex: 1; height: 100%; background: #f3f3f3; cursor: pointer; }
.segment { position: absolute; top: 0; bottom: 0; }
#cursor { position: absolute; top: 0; bottom: 0; width: 2px; background: #000; pointer-events: none; left: 150px; z-index: 2; }
#legend span { display: inline-block; margin-right: 12px; font-size: 12px; } #legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
`;

const SCRIPT = `
const headers = {};
const token = new URLSearchParams(location.hash.slice(1)).get('token');
if (token) headers.authorization = 'Bearer ' + token;
const base = '/v1/videos/' + encodeURIComponent(VIDEO_ID);
const $ = (id) => document.getElementById(id);
const say = (text) => { $('msg').textContent = text; };

function coloursFor(labels) {
  const colours = { [PALETTE.noFace[0]]: PALETTE.noFace[1], [PALETTE.failed[0]]: PALETTE.failed[1] };
  let fallback = 0;
  for (const label of labels) colours[label] = PALETTE.known[label.toLowerCase()] ?? PALETTE.fallback[fallback++ % PALETTE.fallback.length];
  return colours;
}

function row(name, segments, duration, colours, seek) {
  const el = document.createElement('div');
  el.className = 'row';
  el.innerHTML = '<div class="name"></div><div class="lane"></div>';
  el.querySelector('.name').textContent = name;
  const lane = el.querySelector('.lane');
  for (const s of segments) {
    const seg = document.createElement('div');
    seg.className = 'segment';
    seg.dataset.start = s.start;
    seg.dataset.label = s.label;
    seg.style.left = (100 * s.start / duration) + '%';
    seg.style.width = Math.max(0.2, 100 * (s.end - s.start) / duration) + '%';
    seg.style.background = colours[s.label] ?? '#999';
    seg.title = s.label + ' ' + s.start.toFixed(2) + '–' + s.end.toFixed(2) + ' s' + (s.meanProbability != null ? ' (' + s.meanProbability.toFixed(2) + ')' : '');
    lane.appendChild(seg);
  }
  // A click anywhere on a row seeks to that moment.
  lane.addEventListener('click', (event) => {
    const box = lane.getBoundingClientRect();
    seek(Math.max(0, Math.min(1, (event.clientX - box.left) / box.width)) * duration);
  });
  return el;
}

(async () => {
  const answer = await fetch(base + '/results', { headers });
  if (!answer.ok) {
    const why = (await answer.json().catch(() => ({}))).error?.message ?? ('results: HTTP ' + answer.status);
    // Without a token (or a wrong one), say how to give it: in the fragment, which never leaves the browser.
    say(answer.status === 401 ? why + ' — open this page as ' + location.pathname + '#token=YOUR_API_TOKEN (the part after # is never sent to the server)' : why);
    document.body.dataset.ready = 'error';
    return;
  }
  const result = await answer.json();
  const video = $('video');
  const lastEnd = result.segments.length ? result.segments[result.segments.length - 1].end : 0;
  const duration = Math.max(result.video.durationSeconds || 0, lastEnd, 0.001);
  $('title').textContent = result.video.name ?? result.videoId;
  const persons = result.persons || [];
  $('meta').textContent = result.counts.sampled + ' frames, ' + result.counts.tracks + ' track(s), ' + (persons.length ? persons.length + ' person(s), ' : '') + 'dominant ' + (result.dominant ? result.dominant.label : 'none') + ' · ' + result.model.name + (result.model.detector ? ' + ' + result.model.detector : '') + (result.counts.reusedFaces ? ' · ' + result.counts.reusedFaces + ' of ' + result.counts.faces + ' faces reused an earlier classification' : '');
  const colours = coloursFor(result.labels);
  let position = 0;
  const seek = (t) => { position = t; if (video.readyState > 0) video.currentTime = t; draw(); };
  const chart = $('chart');
  chart.appendChild(row('whole video', result.segments, duration, colours, seek));
  // A row per person (their tracks joined across cuts), with screen time; per track where identities were not computed.
  if (persons.length) for (const p of persons) chart.appendChild(row('person ' + p.personId + (p.dominant ? ' ' + p.dominant.label : '') + ' · ' + p.screenTimeSeconds.toFixed(1) + ' s', p.segments, duration, colours, seek));
  else for (const t of result.tracks) chart.appendChild(row('#' + t.trackId + (t.dominant ? ' ' + t.dominant.label : ''), t.segments, duration, colours, seek));
  const legend = [...result.labels.map((l) => [l, l]), [PALETTE.noFace[0], 'no face'], ...(result.counts.failed ? [[PALETTE.failed[0], 'failed']] : [])];
  $('legend').innerHTML = legend.map(([key, name]) => '<span data-label="' + key + '"><i style="background:' + colours[key] + '"></i>' + name + '</span>').join('');
  if (result.counts.withFace === 0) say(result.counts.analysed === 0 ? 'no frame of this video could be analysed (see its status for why)' : 'no face was found in any of the ' + result.counts.analysed + ' frames analysed: there is no expression to show; the timeline marks every frame “no face”');
  const cursor = $('cursor');
  function draw() {
    const lane = chart.querySelector('.lane');
    const t = video.readyState > 0 ? video.currentTime : position;
    cursor.style.left = (lane.offsetLeft + lane.offsetWidth * Math.min(1, t / duration)) + 'px';
    cursor.dataset.time = t.toFixed(3);
  }
  (function frame() { draw(); requestAnimationFrame(frame); })();
  document.body.dataset.ready = 'chart';
  // The video: the annotated copy when the source is still there. Its first byte asked with the
  // token says whether it can be had (and renders it once); the <video> element, which cannot send
  // the token, then streams it through a signed link with Range requests, playing before it is all here.
  const probe = await fetch(base + '/video', { headers: { ...headers, range: 'bytes=0-0' } });
  if (!probe.ok) { say('the video itself is not available: ' + ((await probe.json().catch(() => ({}))).error?.message ?? 'HTTP ' + probe.status) + ' — the timeline below still shows every frame'); return; }
  const link = await (await fetch(base + '/video-link', { headers })).json();
  video.preload = 'auto';
  video.src = link.url;
  video.addEventListener('loadeddata', () => { document.body.dataset.firstFrame = 'shown'; }, { once: true });
  video.addEventListener('loadedmetadata', () => { video.currentTime = position; document.body.dataset.ready = 'video'; }, { once: true });
})();
`;

export function viewPage(videoId: string): string {
  const json = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>fer-stream · ${videoId.replace(/[<>&"]/g, '')}</title><style>${STYLE}</style></head>
<body>
<h1 id="title">fer-stream</h1><p id="meta"></p><p id="msg"></p>
<video id="video" controls muted playsinline></video>
<div id="chart"><div id="cursor"></div></div>
<p id="legend"></p>
<script>const VIDEO_ID = ${json(videoId)}; const PALETTE = ${json(CHART_PALETTE)};${SCRIPT}</script>
</body></html>
`;
}
