export { type UdmabufLimits, udmabufLimits } from './limits.js';
export {
  createSealedMemfd,
  type SealedMemfdOptions,
  UDMABUF_DEVICE,
  UdmabufDevice,
  type UdmabufOptions,
  type UdmabufRange,
} from './udmabuf.js';
