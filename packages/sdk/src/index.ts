// @reprise/sdk: the client's view of the reprise / KIE.AI contract.

export { toExpressMiddleware } from './callbacks/adapters/express.js';
export { type FastifyInstanceLike, type FastifyReplyLike, type FastifyRequestLike, toFastifyPlugin } from './callbacks/adapters/fastify.js';
export { readRawBody, toNodeListener } from './callbacks/adapters/node.js';
export { toWebHandler, type WebHandlerOptions } from './callbacks/adapters/web.js';
export { type DedupeStore, MemoryDedupeStore } from './callbacks/dedupe.js';
export type {
  CallbackEvent,
  CoverImageCallbackEvent,
  ErrorCallbackEvent,
  LyricsCallbackEvent,
  MarketCallbackEvent,
  MidiCallbackEvent,
  MusicVideoCallbackEvent,
  ReceivedCallbackEvent,
  SuccessCallbackEvent,
  VocalSeparationCallbackEvent,
  WavCallbackEvent,
} from './callbacks/events.js';
export { type CallbackHandler, type CallbackHandlerOptions, type CallbackRequest, type CallbackResponse, createCallbackHandler } from './callbacks/handler.js';
export {
  type CallbackFamily,
  callbackFamilyOf,
  marketTracksOf,
  parseCallbackPayload,
  parseCallbackTrack,
  parseCoverImagePayload,
  parseLyricsPayload,
  parseMarketCallbackPayload,
  parseMarketResult,
  parseMidiPayload,
  parseMusicVideoPayload,
  parseVocalSeparationPayload,
  parseWavPayload,
  toSunoTrack,
} from './callbacks/payload.js';
export { Client, type ClientOptions, type FileData, type UploadTarget } from './client/client.js';
export { type SseMessage, SseParser } from './client/sse.js';
export type { RequestOptions, SubmitOptions } from './client/transport.js';
export { type CallbackSource, type FinishedTask, type TaskSource, type WaitForTaskOptions, waitForTask } from './client/wait.js';
export {
  CallbackPayloadError,
  RepriseConnectionError,
  RepriseError,
  WaitTimeoutError,
  WebhookVerificationError,
  type WebhookVerificationErrorCode,
} from './errors.js';
export * from './types.js';
export type { HeadersLike } from './webhooks/headers.js';
export { WebhookKeyring, type WebhookKeys } from './webhooks/keys.js';
export { kieSignature, type VerifiedKieWebhook, type VerifyKieSignatureOptions, verifyKieSignature } from './webhooks/kie.js';
export {
  generateWebhookKeyPair,
  generateWebhookSecret,
  type KieWebhookHeaders,
  type StandardWebhookHeaders,
  signKieWebhook,
  signStandardWebhook,
} from './webhooks/sign.js';
export { type VerifiedStandardWebhook, type VerifyStandardWebhookOptions, verifyStandardWebhook } from './webhooks/standard.js';
export { findTaskId, type TaskIdKey, type TaskIdLookup } from './webhooks/task-id.js';
export { DEFAULT_TOLERANCE_SECONDS, type FreshnessOptions } from './webhooks/timestamp.js';
