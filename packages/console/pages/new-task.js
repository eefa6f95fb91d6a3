import { api, uploadFile } from '../api.js';
import { errorMessage, field, fill, formatSeconds, h, message } from '../dom.js';
import { peaksOf, waveform } from '../waveform.js';

// The replace-section rules (docs/api.md): a section of 6–60 s, at most half the song.
const MIN_SECTION_S = 6;
const MAX_SECTION_S = 60;
const round2 = (value) => Math.round(value * 100) / 100;

/** A first section the rules accept: about the middle fifth of the song. */
function defaultSection(duration) {
  const length = Math.min(MAX_SECTION_S, duration / 2, Math.max(MIN_SECTION_S, duration / 5));
  const start = Math.max(0, (duration - length) / 2);
  return { start: round2(start), end: round2(Math.min(duration, start + length)) };
}

/** Upload a song, drag the section on its waveform, describe it, submit, watch it finish. */
export async function newTaskPage(view, { go, signal }) {
  const status = h('div', { 'aria-live': 'polite' });
  const fileInput = h('input', { type: 'file', name: 'song', accept: 'audio/mpeg,audio/wav,audio/x-wav,.mp3,.wav' });
  const waveHolder = h('div');
  const startInput = h('input', { type: 'number', name: 'infillStartS', min: '0', step: '0.01', required: true });
  const endInput = h('input', { type: 'number', name: 'infillEndS', min: '0', step: '0.01', required: true });
  const prompt = h('textarea', { name: 'prompt', rows: 3, maxlength: 3000, required: true }, 'jazz piano, warm and slow');
  const tags = h('input', { type: 'text', name: 'tags', maxlength: 200, required: true, value: 'Jazz' });
  const title = h('input', { type: 'text', name: 'title', maxlength: 100, required: true, value: 'My song, new section' });
  const callBackUrl = h('input', { type: 'url', name: 'callBackUrl', maxlength: 2048, placeholder: 'https://… (optional)' });
  const submit = h('button', { type: 'submit', disabled: true }, 'Replace the section');
  let uploaded = null;
  let wave = null;

  const readRange = () => ({ start: Number(startInput.value), end: Number(endInput.value) });
  const showRange = (range) => {
    startInput.value = String(round2(range.start));
    endInput.value = String(round2(range.end));
    wave?.setRange(readRange());
  };
  startInput.addEventListener('input', () => wave?.setRange(readRange()));
  endInput.addEventListener('input', () => wave?.setRange(readRange()));

  fileInput.addEventListener('change', async () => {
    const [file] = fileInput.files;
    if (!file) return;
    submit.disabled = true;
    uploaded = null;
    fill(waveHolder);
    fill(status, message('info', `Uploading ${file.name}…`));
    try {
      uploaded = await uploadFile(file);
      const peaks = await peaksOf(uploaded.downloadUrl);
      wave = waveform({
        duration: peaks.duration,
        layers: [{ peaks, colour: 'rgba(36, 89, 199, 0.75)' }],
        label: `Waveform of ${file.name}, ${formatSeconds(peaks.duration)}: drag across it to choose the section, or type the seconds below`,
        onSelect: (range) => showRange(range),
      });
      fill(
        waveHolder,
        h('p', { class: 'muted' }, `${file.name}: ${formatSeconds(peaks.duration)}. Drag across the waveform to choose the section.`),
        wave.element,
      );
      showRange(defaultSection(peaks.duration));
      fill(status, message('ok', `Uploaded ${file.name}.`));
      submit.disabled = false;
    } catch (error) {
      fill(status, errorMessage(error, `${file.name} could not be used`));
    }
  });

  const useInbox = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      onclick: async () => {
        try {
          const { inboxes } = await api('/api/v1/inbox', { signal });
          const inbox = inboxes[0] ?? (await api('/api/v1/inbox', { method: 'POST', signal }));
          callBackUrl.value = inbox.url;
          fill(status, message('ok', 'callBackUrl set to your inbox: its callbacks will show on the Inbox page.'));
        } catch (error) {
          fill(status, errorMessage(error, 'No inbox could be used'));
        }
      },
    },
    'Use my inbox',
  );

  const form = h(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        if (!uploaded) {
          fill(status, message('error', 'Upload a song first.'));
          return;
        }
        submit.disabled = true;
        const { start, end } = readRange();
        const body = { uploadUrl: uploaded.downloadUrl, prompt: prompt.value, tags: tags.value, title: title.value, infillStartS: start, infillEndS: end };
        if (callBackUrl.value.trim()) body.callBackUrl = callBackUrl.value.trim();
        try {
          const { taskId } = await api('/api/v1/generate/replace-section', { method: 'POST', body, signal });
          go(`#/tasks/${taskId}`);
        } catch (error) {
          fill(status, errorMessage(error, 'The task was refused'));
          submit.disabled = false;
        }
      },
    },
    h(
      'section',
      { class: 'panel' },
      h('h2', {}, '1. The song'),
      field('Song (MP3 or WAV)', fileInput, 'Uploaded with POST /api/file-stream-upload; uploads are kept for 3 days by default.'),
      waveHolder,
    ),
    h(
      'section',
      { class: 'panel' },
      h('h2', {}, '2. The section'),
      h('div', { class: 'row' }, field('Start (seconds)', startInput), field('End (seconds)', endInput)),
      h('p', { class: 'muted' }, 'Between 6 and 60 seconds long, and at most half of the song.'),
    ),
    h(
      'section',
      { class: 'panel' },
      h('h2', {}, '3. What to put there'),
      field('Prompt (words and mood)', prompt),
      field('Style tags', tags),
      field('Title', title),
      field('callBackUrl', callBackUrl, 'Optional: where the signed callback goes.'),
      h('p', {}, useInbox),
    ),
    h('p', {}, submit),
  );
  fill(view, h('h1', {}, 'New task: replace a section'), status, form);
}
