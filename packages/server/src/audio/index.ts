/**
 * Pure audio work: codecs, synthesis, splicing and cover art. Arrays and bytes
 * in, arrays and bytes out; nothing here touches files, the network or the
 * rest of the service.
 */

export {
  type BarFeatures,
  type BarGrid,
  barFeatures,
  type ChordOptions,
  type ChordQuality,
  type ChordReading,
  chordOfChroma,
  chordSymbol,
  chromagramsInOnePass,
  readChords,
} from './analysis/chords.js';
export { type FormBar, type FormName, type FormOptions, type FormSection, findForm } from './analysis/form.js';
export {
  type AnalyseOptions,
  type Analysis,
  type AnalysisRange,
  analyse,
  analyseMusic,
  analysisWindow,
  integratedLoudness,
  type KeyAnalysis,
  type LoudnessAnalysis,
  type MusicAnalysis,
  measureLoudness,
  PITCH_NAMES,
  relativeOf,
  type TempoAnalysis,
  truePeakDbtp,
} from './analysis/index.js';
export { TRUE_PEAK_HALF } from './analysis/loudness.js';
export { waveformPeaks } from './analysis/peaks.js';
export { type AnalysisFront, analysisFront } from './analysis/spectrum.js';
export { COVER_BARS, type CoverInput, coverSvg, renderCover, WaveformMeter, waveformLevels } from './art/cover.js';
export { type AudioSource, type DecodedAudio, decodeAudio, decodeAudioRange, describeAudio } from './codecs/decode.js';
export { AudioFormatError } from './codecs/errors.js';
export { type FloatWav, toFloatWav } from './codecs/float-wav.js';
export {
  encodeMidiFile,
  type MidiFile,
  type MidiFileInstrument,
  type MidiFileNote,
  type MidiFileOptions,
  type MidiFileTrack,
  midiVelocity,
  readMidiFile,
} from './codecs/midi.js';
export { type DecodedMp3, decodeMp3, encodeMp3, MP3_BITRATES, type Mp3Bitrate, type Mp3Options, mp3BitrateAtLeast, mp3SampleRate } from './codecs/mp3.js';
export { continueMp3Frames, type FrameContinuation, type FrameContinuationRequest } from './codecs/mp3-continue.js';
export { type Mp3Layout, readMp3Layout } from './codecs/mp3-frames.js';
export { decodeMp3Window, type KnownSamples, streamMp3Rest } from './codecs/mp3-seek.js';
export { canSpliceFrames, type FrameSplice, type FrameSpliceRequest, spliceMp3Frames } from './codecs/mp3-splice.js';
export { type AudioFormat, type AudioProbe, probeAudio } from './codecs/probe.js';
export {
  decodeWav,
  encodeFloatWavInPlace,
  encodeWav,
  FloatWavFileWriter,
  floatWavChannels,
  inFloatWavLayout,
  readWavLayout,
  type WavEncoding,
  type WavOptions,
} from './codecs/wav.js';
export { fadeOutEnd, type JoinOptions, type JoinPoint, matchLoudness, snapJoin } from './mixing/continuation.js';
export { DEFAULT_CEILING, type LimiterOptions, type LimiterResult, limitTruePeak } from './mixing/limiter.js';
export { applyTilt, bandEnergies, type FrameSpan, loudnessOfSpans, matchTilt, tiltMatchGain } from './mixing/match.js';
export { resample } from './mixing/resample.js';
export {
  type CrossfadeRequest,
  correlation,
  DEFAULT_MAX_SHIFT_S,
  type FadeLengths,
  fadeShapeFor,
  quietCrossfades,
  type SectionRules,
  type SnapKind,
  type SnapOptions,
  type SnappedRange,
  snapToBeats,
} from './mixing/seams.js';
export {
  applyGain,
  type FadeShape,
  fadeInOver,
  type LoudnessMatch,
  loudnessMatchGain,
  peak,
  planSeams,
  rms,
  type Seams,
  seamsAt,
  splice,
  spliceInto,
} from './mixing/splice.js';
export {
  type ChangePlan,
  type ChannelChanger,
  channelChanger,
  pitchShift,
  planChange,
  rationalNear,
  type StretchShift,
  stretchAndShift,
  stretchSearchSignal,
  timeStretch,
} from './mixing/stretch.js';
export { type ChannelAllocator, durationOf, frameCount, type Pcm, silence } from './pcm.js';
export { hashString, mulberry32, randomFor } from './prng.js';
export { matchAudio } from './separation/compare.js';
export { type EstimatedStemName, type EstimateMode, estimateStems, type StemEstimate } from './separation/estimate.js';
export { heldRatio, multiplyInto, stageGain } from './separation/gain.js';
export { energy, sdr, sumOf } from './separation/quality.js';
export { arrangementParts, finishSong, mixParts, type SynthPart, softClipChannels, songFinish } from './separation/synth-parts.js';
export {
  type Arrangement,
  type ArrangementRequest,
  barSeconds,
  describeArrangement,
  describeSongs,
  planArrangement,
  planSongs,
  type Section,
  type SheetOptions,
} from './synthesis/arrangement.js';
export { boostStyle } from './synthesis/boost.js';
export {
  type ContinuationPlan,
  type ContinuationRequest,
  type ContinuationWindow,
  continuedBeats,
  describeContinuation,
  followedTempo,
  planContinuation,
  renderContinuation,
} from './synthesis/continuation.js';
export { type FitRequest, type FittedSection, gridTimeline, renderFittedSection, smoothBeats } from './synthesis/fit.js';
export {
  type LyricKind,
  type LyricLine,
  type LyricPlanSection,
  type LyricSection,
  type LyricWord,
  parseLyrics,
  promptWords,
  RHYMES,
  syllableCount,
  syllables,
  writeLyrics,
} from './synthesis/lyrics.js';
export {
  arrangementSlots,
  type BeatGrid,
  barChords,
  gridFromBeats,
  type MelodyContext,
  melodyFor,
  type PhraseNote,
  type PhraseSlot,
  planVocal,
  type RecordingVocal,
  type RecordingVocalRequest,
  type SongVocal,
  type SongVocalRequest,
  scaleOf,
  singArrangement,
  singOverRecording,
  steadyGrid,
  type TimedWord,
  VOCAL_RANGES,
  type VocalPlan,
  type VocalRange,
} from './synthesis/melody.js';
export { instrumentNames } from './synthesis/sheet.js';
export {
  addVoice,
  type Gender,
  pronounce,
  renderVoice,
  type SungNote,
  type SyllableSound,
  VOICE_RMS,
  VOWEL_FORMANTS,
  type VoiceOptions,
} from './synthesis/singing.js';
export type { BassVoice, HarmonyVoice, LeadVoice } from './synthesis/style.js';
export { chooseStyle, STYLES, type Style } from './synthesis/style.js';
export type { BeatTimeline } from './synthesis/synth.js';
export { type PlayedEvent, playedEvents, type RenderWindow, renderSong, renderWindow } from './synthesis/synth.js';
export {
  GM_DRUMS,
  prepareStem,
  readStem,
  type StemSignal,
  type TranscribedNote,
  type TranscriptionKind,
  transcribeAudio,
  transcribeStem,
} from './transcription/index.js';
export { GM_OF_PART, GM_VOICE, type GmInstrument } from './transcription/instruments.js';
export { MusicVideoError, type MusicVideoStage } from './video/errors.js';
export { MUSIC_VIDEO_DEFAULTS, type MusicVideo, type MusicVideoInput, type MusicVideoOptions, renderMusicVideo } from './video/music-video.js';
