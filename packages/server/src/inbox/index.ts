export { type LocalDelivery, localDelivery, RECEIVED_BODY } from './delivery.js';
export * from './record.js';
export * from './store.js';
