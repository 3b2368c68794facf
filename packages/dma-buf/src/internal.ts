// @zcopy/dma-buf/internal: for the authors of zcopy addon packages that make dma-bufs (not for their users).
export { ownNewDmaBuf } from './dma-buf.js';
