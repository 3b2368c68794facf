// One connector's transport, backend side: its request ring (mapped from the frontend's req-ring-ref) and its
// event page (evt-ring-ref), each with its event channel. The indexes the backend owns (req_cons, rsp_prod_pvt,
// in_prod, the next event id) live here, never read back from the shared pages.
import { ZcopyError } from '@zcopy/core';
import { binding, C, type RawRequest } from './native.js';

export interface RingPorts {
  /** Notifies the frontend on the request channel. */
  notifyReq(): void;
  /** Notifies the frontend on the event channel. */
  notifyEvt(): void;
}

export class ConnectorRings {
  readonly #req: Uint8Array;
  readonly #evt: Uint8Array;
  readonly #ports: RingPorts;
  #reqCons = 0;
  #rspProdPvt = 0;
  #inProd = 0;
  #evtId = 0;
  /** Events dropped because the frontend left the event page full. */
  droppedEvents = 0;

  constructor(reqPage: Uint8Array, evtPage: Uint8Array, ports: RingPorts) {
    this.#req = reqPage;
    this.#evt = evtPage;
    this.#ports = ports;
    // BACK_RING_INIT: the frontend initialised both pages (SHARED_RING_INIT) before it went Initialised.
  }

  /** Responses owed: requests consumed and not answered yet. */
  get outstanding(): number {
    return (this.#reqCons - this.#rspProdPvt) >>> 0;
  }

  /**
   * Takes the requests the frontend produced (up to the responses the ring can still hold). `overrun` when
   * its req_prod runs more than a ring ahead of what was consumed: the connection must end.
   */
  take(): { requests: RawRequest[]; overrun: boolean } {
    const room = C.RING_SIZE - this.outstanding;
    const r = binding.reqConsume(this.#req, this.#reqCons, room);
    if (r.overrun) return { requests: [], overrun: true };
    this.#reqCons = r.reqCons;
    return { requests: r.requests, overrun: false };
  }

  /** RING_FINAL_CHECK_FOR_REQUESTS: true when more came in (take again). */
  finalCheck(): boolean {
    return binding.finalCheckRequests(this.#req, this.#reqCons);
  }

  respond(id: number, operation: number, status: number, edidSize = 0): void {
    if (this.outstanding === 0) throw new ZcopyError('ERR_ZCOPY_PV_DISPLAY_RING', 'no request to respond to');
    const notify = binding.respond(this.#req, this.#rspProdPvt, id, operation, status, edidSize);
    this.#rspProdPvt = (this.#rspProdPvt + 1) >>> 0;
    if (notify) this.#ports.notifyReq();
  }

  /** Pushes a PG_FLIP event (ids from 0, +1 each, per connection); false when the page was full. */
  pushFlipEvent(fbCookie: bigint): boolean {
    const r = binding.evtPush(this.#evt, this.#inProd, this.#evtId & 0xffff, C.EVT_PG_FLIP, fbCookie);
    if (r !== 'ok') {
      this.droppedEvents++;
      return false;
    }
    this.#inProd = (this.#inProd + 1) >>> 0;
    this.#evtId++;
    this.#ports.notifyEvt();
    return true;
  }

  get eventsSent(): number {
    return this.#evtId;
  }
}
