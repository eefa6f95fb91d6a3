import { ApiFailure, api, streamEvents } from '../api.js';
import { badge, errorMessage, facts, fill, formatSeconds, formatTime, h, json, message, playable } from '../dom.js';
import { beforeAfter } from './compare.js';

const FINAL = new Set(['SUCCESS', 'CREATE_TASK_FAILED', 'GENERATE_AUDIO_FAILED', 'CALLBACK_EXCEPTION', 'SENSITIVE_WORD_ERROR']);
// The replace-section kind is registered as `replace`.
const REPLACE_KIND = 'replace';
const SOURCE_KINDS = new Set([REPLACE_KIND, 'upload-extend', 'upload-cover', 'add-instrumental', 'add-vocals', 'mashup']);

/** What a URL found in record-info is, by its key and its extension. */
function mediaKind(key, url) {
  const path = url.split('?')[0].toLowerCase();
  if (/video|mp4/i.test(key) || path.endsWith('.mp4')) return 'video';
  if (/image/i.test(key) || /\.(jpe?g|png|webp|gif)$/.test(path)) return 'image';
  if (/midi/i.test(key) || /\.midi?$/.test(path)) return 'midi';
  if (
    /audio|wav|vocal|instrumental|stem|drums|bass|piano|guitar|keyboard|percussion|strings|synth|fx|brass|woodwinds|other|backing/i.test(key) ||
    /\.(mp3|wav|m4a|ogg|flac)$/.test(path) ||
    path.endsWith('/stream')
  )
    return 'audio';
  return null;
}

/** Every file URL and every lyric text in a record-info answer, with the path of keys that led to it. */
function collectOutputs(value, path = [], found = { media: [], texts: [], words: null }) {
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) collectOutputs(item, [...path, index], found);
  } else if (value && typeof value === 'object') {
    if (Array.isArray(value.alignedWords)) found.words = value.alignedWords;
    for (const [key, item] of Object.entries(value)) {
      if (key === 'param') continue;
      // A stream URL is the same audio as its file URL: one player is enough.
      if (/stream/i.test(key)) continue;
      if (typeof item === 'string' && /^https?:\/\//.test(item)) {
        const kind = mediaKind(key, item);
        if (kind && !found.media.some((m) => m.url === item)) found.media.push({ kind, url: item, label: [...path, key].join('.') });
      } else if (key === 'text' && typeof item === 'string' && item.trim()) found.texts.push({ label: path.join('.'), text: item });
      else collectOutputs(item, [...path, key], found);
    }
  }
  return found;
}

function outputsSection(record) {
  const { media, texts, words } = collectOutputs(record?.response ?? record ?? {});
  if (media.length === 0 && texts.length === 0 && !words) return null;
  const item = ({ kind, url, label }) => {
    const caption = h('figcaption', { class: 'mono' }, label);
    if (kind === 'audio') return h('figure', {}, caption, playable(h('audio', { controls: true, preload: 'metadata', src: url, 'aria-label': label }), label));
    if (kind === 'image') return h('figure', {}, caption, h('img', { src: url, alt: `Image: ${label}` }));
    if (kind === 'video') return h('figure', {}, caption, playable(h('video', { controls: true, preload: 'metadata', src: url, 'aria-label': label }), label));
    return h('figure', {}, caption, h('a', { href: url, download: '' }, 'Download the MIDI file'));
  };
  return h(
    'section',
    { class: 'panel media' },
    h('h2', {}, 'Outputs'),
    h('div', { class: 'players' }, media.map(item)),
    texts.map(({ label, text }) => [h('h3', {}, `Lyrics (${label})`), h('pre', {}, text)]),
    words
      ? [
          h('h3', {}, 'Lyrics with their timings'),
          h(
            'table',
            {},
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Word'), h('th', { scope: 'col' }, 'Start'), h('th', { scope: 'col' }, 'End'))),
            h(
              'tbody',
              {},
              words.map((w) => h('tr', {}, h('td', {}, w.word), h('td', {}, formatSeconds(w.startS)), h('td', {}, formatSeconds(w.endS)))),
            ),
          ),
        ]
      : null,
  );
}

function tracksSection(task) {
  if (!task.tracks?.length) return null;
  return h(
    'section',
    { class: 'panel' },
    h('h2', {}, 'Tracks'),
    h(
      'div',
      { class: 'players' },
      task.tracks.map((track) =>
        h(
          'figure',
          {},
          h('figcaption', {}, track.title || track.id, ' ', h('span', { class: 'muted' }, formatSeconds(track.duration))),
          track.audioUrl
            ? playable(h('audio', { controls: true, preload: 'metadata', src: track.audioUrl, 'aria-label': `Track ${track.title || track.id}` }), 'This track')
            : null,
          track.imageUrl ? h('img', { src: track.imageUrl, alt: `Cover of ${track.title || track.id}`, width: 160 }) : null,
          track.appliedRange
            ? h('p', { class: 'muted' }, `Replaced ${formatSeconds(track.appliedRange.start)} – ${formatSeconds(track.appliedRange.end)}`)
            : null,
        ),
      ),
    ),
  );
}

/** A task: its inputs, its outputs, record-info as KIE returns it; live until it finishes. */
export async function taskPage(view, { params: [taskId], signal }) {
  let task;
  try {
    task = await api(`/api/v1/tasks/${encodeURIComponent(taskId)}`, { signal });
  } catch (error) {
    if (error instanceof ApiFailure && (error.code === 404 || error.code === 422)) {
      fill(
        view,
        h('h1', {}, 'Task'),
        message('error', `This task cannot be shown: ${error.message}. (A task of another account answers as an unknown one.)`),
        h('p', {}, h('a', { href: '#/tasks' }, 'Back to the tasks')),
      );
      return;
    }
    throw error;
  }
  let record = null;
  let recordError = null;
  try {
    record = await api(task.recordInfoUrl, { signal });
  } catch (error) {
    recordError = error;
  }

  const range = task.tracks?.find((track) => track.appliedRange)?.appliedRange ?? rangeOf(task.param);
  const comparison =
    task.kind === REPLACE_KIND && task.sourceUrl && task.tracks?.[0]?.audioUrl
      ? await beforeAfter({ beforeUrl: task.sourceUrl, afterUrl: task.tracks[0].audioUrl, range, signal })
      : null;
  const sourceNote =
    SOURCE_KINDS.has(task.kind) && !task.sourceUrl && task.status === 'SUCCESS'
      ? message('info', 'The source audio this task read is no longer kept (its file expired), so there is no "before" to play.')
      : null;

  fill(
    view,
    h('p', {}, h('a', { href: '#/tasks' }, '← Tasks')),
    h('h1', {}, `${task.kind === REPLACE_KIND ? 'replace-section' : task.kind} `, h('code', {}, task.taskId)),
    h(
      'p',
      { class: 'row' },
      badge(task.status),
      task.simulated ? badge('simulated') : null,
      h('a', { href: `#/tasks/${encodeURIComponent(task.taskId)}/deliveries` }, 'Deliveries (callbacks)'),
    ),
    !FINAL.has(task.status) ? message('info', 'Running: this page updates when the task changes.') : null,
    task.errorMessage ? message('error', `Failed with code ${task.errorCode}: ${task.errorMessage}`) : null,
    h(
      'section',
      { class: 'panel' },
      h('h2', {}, 'Summary'),
      facts([
        ['Type', task.type],
        ['Created', formatTime(task.createTime)],
        ['Completed', formatTime(task.completeTime)],
        ['callBackUrl', task.callBackUrl],
        ['Source', task.sourceUrl ? h('a', { href: task.sourceUrl }, task.sourceUrl) : null],
      ]),
    ),
    comparison,
    sourceNote,
    comparison ? null : tracksSection(task),
    outputsSection(record),
    h('section', { class: 'panel' }, h('h2', {}, 'Inputs'), h('p', { class: 'muted' }, 'The request body as received.'), json(task.param)),
    h(
      'section',
      { class: 'panel' },
      h('h2', {}, 'Record-info'),
      h('p', { class: 'muted' }, 'As KIE returns it: ', h('code', {}, `GET ${task.recordInfoUrl}`)),
      recordError ? errorMessage(recordError, 'Record-info could not be read') : json(record),
    ),
  );

  if (!FINAL.has(task.status)) {
    // Re-render on the task's next change; the page's signal ends the stream when leaving.
    const changed = new AbortController();
    signal.addEventListener('abort', () => changed.abort());
    streamEvents(
      `/api/v1/tasks/${encodeURIComponent(task.taskId)}/events`,
      (event, data) => {
        if (event !== 'status' || data.status === task.status) return;
        changed.abort();
        if (!signal.aborted) taskPage(view, { params: [taskId], signal });
      },
      { signal: changed.signal },
    );
  }
}

function rangeOf(given) {
  let param = given;
  if (typeof given === 'string') {
    try {
      param = JSON.parse(given);
    } catch {
      return null;
    }
  }
  const start = Number(param?.infillStartS);
  const end = Number(param?.infillEndS);
  return Number.isFinite(start) && Number.isFinite(end) && end > start ? { start, end } : null;
}
