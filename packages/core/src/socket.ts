// Passing fds between processes (and threads) over AF_UNIX sockets with SCM_RIGHTS.
// Sends and receives never block the event loop: MSG_DONTWAIT, then a wait for POLLOUT/POLLIN through the
// core's poller (waitFd), with timeoutMs and AbortSignal. Received fds arrive with O_CLOEXEC
// (MSG_CMSG_CLOEXEC) and are owned at once; a message cut short by the kernel (MSG_CTRUNC, MSG_TRUNC) is an
// error with every fd that did arrive already closed. No path leaves a received fd open and unowned.
import { PollEvents, type WaitOptions, waitFd } from './async.js';
import { ZcopyError } from './errors.js';
import { adoptAllOrClose, Fd, type FdLike, FdObject, type FdObjectOptions, fdOf } from './fd.js';
import { checkFdKind } from './fd-kind.js';
import { native } from './native.js';

/** The socket types a pair can have. 'seqpacket' (the default) keeps message boundaries. */
export type UnixSocketType = 'seqpacket' | 'stream' | 'dgram';

const socketTypes: Record<UnixSocketType, number> = {
  seqpacket: native.constants.SOCK_SEQPACKET,
  stream: native.constants.SOCK_STREAM,
  dgram: native.constants.SOCK_DGRAM,
};

function typeNumber(type: unknown): number {
  const n = socketTypes[type as UnixSocketType];
  if (n === undefined || typeof type !== 'string')
    throw new TypeError(`type must be 'seqpacket', 'stream' or 'dgram', got ${String(type)}`);
  return n;
}

/** At most this many fds travel in one message (the kernel's SCM_MAX_FD). */
export const MAX_FDS_PER_MESSAGE: number = native.constants.SCM_MAX_FD;

/** How a received fd becomes an object: a class with a static adopt (SyncFile, DmaBuf…) or a function. */
export type FdKind<T extends Disposable = Disposable> = { adopt(fd: number): T } | ((fd: number) => T);

type Adopted<K> = K extends { adopt(fd: number): infer T }
  ? T
  : K extends (fd: number) => infer T
    ? T
    : never;

export interface ReceiveOptions<K extends readonly FdKind[] | undefined = undefined> extends WaitOptions {
  /**
   * What each fd of the message is, in order, e.g. `[SwSyncTimeline, SyncFile]`: each is adopted by its
   * class (and checked: a wrong kind is a WrongFdError, every fd closed). The message must carry exactly this
   * many fds. Without it, fds arrive as core `Fd`s (at most `maxFds`).
   */
  as?: K;
  /** Without `as`: the most fds taken from one message (default and at most 253); more is ERR_ZCOPY_FDS_TRUNCATED. */
  maxFds?: number;
  /** The most bytes of data taken (default 65536); a longer seqpacket/dgram message is ERR_ZCOPY_MSG_TRUNCATED. */
  maxBytes?: number;
}

export interface Received<T> {
  /** The message's bytes (for a stream socket: what one recvmsg returned). */
  data: Buffer;
  /** The fds it carried, owned by the receiver: close them (or `using`). */
  fds: T;
}

export interface SendOptions extends WaitOptions {
  /** The message's bytes (default one zero byte: a message needs at least one byte to carry fds). */
  data?: Uint8Array | string;
}

function dataOf(data: Uint8Array | string | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(1);
  if (typeof data === 'string') data = Buffer.from(data);
  if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array or a string');
  if (data.byteLength === 0)
    throw new RangeError('data must not be empty: a message carries fds with its bytes');
  return data;
}

/**
 * Sends `fds` (any FdLike: objects or numbers; they stay the caller's, the message holds its own reference,
 * so closing them right after is fine) over the unix socket `socket`, with `data`. Resolves with the bytes sent
 * (all of them: a stream socket gets the rest of a partial send, the fds having gone with the first bytes).
 */
export async function sendFds(
  socket: FdLike,
  fds: readonly FdLike[],
  options: SendOptions = {},
): Promise<number> {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  if (!Array.isArray(fds)) throw new TypeError('fds must be an array of fds');
  if (fds.length > MAX_FDS_PER_MESSAGE)
    throw new RangeError(
      `at most ${MAX_FDS_PER_MESSAGE} fds fit in one message (SCM_MAX_FD), got ${fds.length}`,
    );
  const numbers = fds.map((f, i) => fdOf(f, `fds[${i}]`));
  let data = dataOf(options.data);
  fdOf(socket, 'socket');
  let total = 0;
  let pending = numbers;
  for (;;) {
    const n = native.sendFds(fdOf(socket, 'socket'), data, pending);
    if (n < 0) {
      await waitFd(socket, PollEvents.WRITABLE, options, 'sendFds');
      continue;
    }
    total += n;
    pending = [];
    if (n >= data.byteLength) return total;
    data = data.subarray(n);
  }
}

function adopterOf(kind: FdKind, i: number): (fd: number) => Disposable {
  // A class is a function too: its static adopt goes first.
  const k = kind as { adopt?: unknown } | null;
  if (k !== null && (typeof k === 'object' || typeof k === 'function') && typeof k.adopt === 'function')
    return (fd) => (k.adopt as (fd: number) => Disposable).call(k, fd);
  if (typeof kind === 'function') return kind as (fd: number) => Disposable;
  throw new TypeError(`as[${i}] must be a class with a static adopt(fd) or a function of the fd`);
}

/**
 * Receives one message from the unix socket `socket`: its data, and its fds as owned objects. Waits (uv_poll)
 * until a message arrives, with timeoutMs and an AbortSignal. Errors (every received fd closed first):
 * ZcopyError ERR_ZCOPY_FDS_TRUNCATED (more fds than expected: the kernel cut them, MSG_CTRUNC),
 * ERR_ZCOPY_MSG_TRUNCATED (MSG_TRUNC), ERR_ZCOPY_FD_COUNT (fewer fds than `as` names), ERR_ZCOPY_PEER_CLOSED
 * (end of stream); WrongFdError when an fd is not of the kind `as` says; KernelError for the kernel's refusals.
 */
export async function receiveFds<const K extends readonly FdKind[]>(
  socket: FdLike,
  options: ReceiveOptions<K> & { as: K },
): Promise<Received<{ -readonly [I in keyof K]: Adopted<K[I]> }>>;
export async function receiveFds(socket: FdLike, options?: ReceiveOptions): Promise<Received<FdObject[]>>;
export async function receiveFds(
  socket: FdLike,
  options: ReceiveOptions<readonly FdKind[] | undefined> = {},
): Promise<Received<Disposable[]>> {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const { as, maxBytes = 65536 } = options;
  if (as !== undefined && !Array.isArray(as)) throw new TypeError('as must be an array of fd kinds');
  const adopters = as?.map(adopterOf);
  let maxFds = options.maxFds ?? MAX_FDS_PER_MESSAGE;
  if (adopters) {
    if (options.maxFds !== undefined) throw new TypeError('give either as or maxFds, not both');
    maxFds = adopters.length;
  }
  if (!Number.isInteger(maxFds) || maxFds < 0 || maxFds > MAX_FDS_PER_MESSAGE)
    throw new RangeError(`maxFds must be within 0..${MAX_FDS_PER_MESSAGE}, got ${maxFds}`);
  if (!Number.isInteger(maxBytes) || maxBytes < 1 || maxBytes > 1 << 24)
    throw new RangeError(`maxBytes must be within 1..${1 << 24}, got ${maxBytes}`);
  if (adopters && adopters.length > MAX_FDS_PER_MESSAGE)
    throw new RangeError(`at most ${MAX_FDS_PER_MESSAGE} fds fit in one message`);
  fdOf(socket, 'socket');
  for (;;) {
    const r = native.recvFds(fdOf(socket, 'socket'), maxBytes, maxFds);
    if (r === null) {
      await waitFd(socket, PollEvents.READABLE, options, 'receiveFds');
      continue;
    }
    if (r.ctrunc)
      throw new ZcopyError(
        'ERR_ZCOPY_FDS_TRUNCATED',
        `the message carried more fds than the ${maxFds} expected: the kernel cut them (MSG_CTRUNC); ` +
          `the ${r.dropped} that arrived were closed`,
      );
    if (r.trunc)
      throw new ZcopyError(
        'ERR_ZCOPY_MSG_TRUNCATED',
        `the message was longer than maxBytes (${maxBytes}): the kernel cut it (MSG_TRUNC); ` +
          `the ${r.dropped} fds that arrived were closed`,
      );
    if (r.data.length === 0 && r.fds.length === 0)
      throw new ZcopyError('ERR_ZCOPY_PEER_CLOSED', 'the other end of the socket was closed (end of stream)');
    if (adopters && r.fds.length !== adopters.length) {
      for (const fd of r.fds) closeQuietly(fd);
      throw new ZcopyError(
        'ERR_ZCOPY_FD_COUNT',
        `expected ${adopters.length} fds in the message, it carried ${r.fds.length} (closed)`,
      );
    }
    let i = 0;
    const fds = adoptAllOrClose(r.fds, (fd) => (adopters ? adopters[i++]!(fd) : Fd.adopt(fd)));
    return { data: r.data, fds };
  }
}

function closeQuietly(fd: number): void {
  try {
    native.close(fd);
  } catch {
    // already gone
  }
}

let construct!: (fd: number, options: FdObjectOptions) => UnixSocket;

function checkUnix(fd: number): void {
  checkFdKind(fd, 'a unix socket', () => native.socketInfo(fd).domain === native.constants.AF_UNIX);
}

/** An AF_UNIX socket: one end of a pair, a connection to a path, or one accepted by a UnixServer. */
export class UnixSocket extends FdObject {
  static {
    construct = (fd, options) => new UnixSocket(fd, options);
  }

  private constructor(fd: number, options: FdObjectOptions) {
    super(fd, options);
  }

  /**
   * socketpair(AF_UNIX): two connected ends (O_CLOEXEC). Hand one to a child process (spawn's `stdio`, then
   * `UnixSocket.adopt(3)` there) or to a worker thread (`detachFd()` here, `UnixSocket.adopt(fd)` there).
   */
  static pair(type: UnixSocketType = 'seqpacket'): [UnixSocket, UnixSocket] {
    const [a, b] = native.socketPair(typeNumber(type)) as [number, number];
    return [construct(a, { owned: true }), construct(b, { owned: true })];
  }

  /** connect(2) to a listening unix socket at `path` (a UnixServer, or any other program's). */
  static connect(path: string, type: UnixSocketType = 'seqpacket'): UnixSocket {
    if (typeof path !== 'string') throw new TypeError('path must be a string');
    return construct(native.connectUnix(path, typeNumber(type)), { owned: true });
  }

  /** Take ownership of a unix socket fd (inherited, received, another library's). WrongFdError if it is not one. */
  static adopt(fd: number): UnixSocket {
    const n = fdOf(fd);
    checkUnix(n);
    return construct(native.adopt(n), { owned: true });
  }

  /** Use a unix socket fd that someone else owns and will close. */
  static borrow(target: FdLike): UnixSocket {
    const n = fdOf(target);
    checkUnix(n);
    return construct(n, { owned: false });
  }

  /** An owned duplicate (F_DUPFD_CLOEXEC) of a unix socket fd. */
  static dup(target: FdLike): UnixSocket {
    const n = fdOf(target);
    checkUnix(n);
    return construct(native.dup(n), { owned: true });
  }

  /** sendFds() on this socket. */
  sendFds(fds: readonly FdLike[], options?: SendOptions): Promise<number> {
    return sendFds(this, fds, options);
  }

  /** receiveFds() on this socket. */
  receiveFds<const K extends readonly FdKind[]>(
    options: ReceiveOptions<K> & { as: K },
  ): Promise<Received<{ -readonly [I in keyof K]: Adopted<K[I]> }>>;
  receiveFds(options?: ReceiveOptions): Promise<Received<FdObject[]>>;
  receiveFds(options?: ReceiveOptions<readonly FdKind[] | undefined>): Promise<Received<Disposable[]>> {
    return receiveFds(this, options as ReceiveOptions);
  }
}

/** A listening unix socket at a path: `accept()` resolves with each connection. close() does not unlink the path. */
export class UnixServer extends FdObject {
  readonly path: string;

  private constructor(fd: number, path: string) {
    super(fd, { owned: true });
    this.path = path;
  }

  /** socket + bind + listen at `path` (which must not exist: EADDRINUSE). */
  static listen(path: string, options: { type?: UnixSocketType; backlog?: number } = {}): UnixServer {
    if (typeof path !== 'string') throw new TypeError('path must be a string');
    const { type = 'seqpacket', backlog = 16 } = options;
    if (!Number.isInteger(backlog) || backlog < 0)
      throw new RangeError(`backlog must be >= 0, got ${backlog}`);
    return new UnixServer(native.listenUnix(path, typeNumber(type), backlog), path);
  }

  /** The next connection (waits with uv_poll: timeoutMs, AbortSignal; ClosedError if the server closes). */
  async accept(options?: WaitOptions): Promise<UnixSocket> {
    for (;;) {
      const fd = native.accept(this.fd);
      if (fd >= 0) return construct(fd, { owned: true });
      await waitFd(this, PollEvents.READABLE, options, 'UnixServer.accept');
    }
  }
}
