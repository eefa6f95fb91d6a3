/** The outbound-request guard (SPEC §5.4): the only way reprise talks to a user-supplied URL. */
export {
  type AddressVerdict,
  type Cidr,
  checkAddress,
  formatIp,
  type IpAddress,
  parseCidr,
  parseCidrList,
  parseIp,
} from './address-policy.js';
export {
  createOutboundClient,
  type OutboundClient,
  type OutboundClientOptions,
  type OutboundHeaders,
  type OutboundRequest,
  type OutboundResponse,
} from './client.js';
export type { ResolvedAddress, Resolver } from './connector.js';
export { type DownloadLimits, download } from './download.js';
export { OutboundError, type OutboundErrorKind } from './errors.js';
export { checkUrl, literalAddress, MAX_URL_LENGTH, type UrlVerdict } from './url-policy.js';
