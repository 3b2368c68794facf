export { type UdmabufLimits, udmabufLimits } from './limits.js';
export {
  createSealedMemfd,
  UDMABUF_DEVICE,
  UdmabufDevice,
  type UdmabufOptions,
  type UdmabufRange,
} from './udmabuf.js';
