// Type-checked by the packaging suite in a project that installed the packed tarballs, once with
// moduleResolution nodenext and once with bundler: every package's published types resolve and are usable.

import { dmaBackingFlags } from '@zcopy/balloon-dma';
import { doctor, type Report } from '@zcopy/cli';
import { EventFd, type FdLike, KernelError } from '@zcopy/core';
import { loadBinding } from '@zcopy/core/internal';
import { DmaBuf } from '@zcopy/dma-buf';
import { type FenceStatus, fenceStatus } from '@zcopy/dma-fence';
import { DmaHeap } from '@zcopy/dma-heap';
import { type FlipEvent, KmsDevice } from '@zcopy/drm-kms';
import { DrmDevice, type DrmNodeInfo, listDrmNodes } from '@zcopy/drm-prime';
import { GntdevDmabuf } from '@zcopy/gntdev-dmabuf';
import { GrantMapper, GrantSharer } from '@zcopy/grant-table';
import { UdmabufDevice } from '@zcopy/udmabuf';
import { isDom0 } from '@zcopy/xen';
import { bootDomU } from '@zcopy/xen/domu';
import { EventChannel } from '@zcopy/xen-evtchn';
import { XenStore } from '@zcopy/xenstore';

export async function consumer(): Promise<void> {
  using ev = EventFd.create(1);
  const fd: FdLike = ev;
  const status: FenceStatus | undefined = isDom0() ? fenceStatus(fd) : undefined;
  const nodes: DrmNodeInfo[] = listDrmNodes();
  const report: Report = await doctor();
  const flip: FlipEvent | undefined = undefined;
  const err: unknown = new Error('x');
  if (err instanceof KernelError) console.log(err.code, err.errno);
  console.log(status, nodes.length, report.schema, flip, typeof loadBinding, typeof bootDomU);
  console.log(DmaBuf, DmaHeap, KmsDevice, DrmDevice, GntdevDmabuf, GrantMapper, GrantSharer);
  console.log(UdmabufDevice, EventChannel, XenStore, dmaBackingFlags);
}
