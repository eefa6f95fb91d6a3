export { type AddressVerdict, type Cidr, checkAddress, embeddedIPv4, formatAddress, parseAddress, parseCidrList } from './address-policy.js';
export {
  createOutboundClient,
  download,
  type OutboundClient,
  type OutboundClientOptions,
  OutboundError,
  type OutboundErrorKind,
  type OutboundRequest,
  type OutboundResponse,
  type Resolver,
} from './client.js';
export { checkUrl, literalAddress, type UrlVerdict } from './url-policy.js';
