/**
 * What exact stems need of the synthesiser: its parts, each mixed alone at the scale of the whole
 * mix, and the stages that make a raw mix a song, as whole arrays and sample by sample.
 */
export { arrangementParts, finishSong, mixParts, type SynthPart, softClipChannels, songFinish } from '../synthesis/synth.js';
