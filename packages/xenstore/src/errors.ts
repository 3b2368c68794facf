// Xenstore errors: xenstored answers XS_ERROR with an errno name; it becomes a KernelError subclass whose
// message names the request, the node and the rule.
import { KernelError } from '@zcopy/core';
import { registerHints } from '@zcopy/core/internal';
import { binding } from './native.js';

export class XenStoreError extends KernelError {
  override name = 'XenStoreError';
  /** The xenstore node the request was about, if any. */
  readonly node: string | undefined;

  constructor(code: string, request: string, node?: string) {
    const errno = binding.errors[code] ?? binding.errors.EINVAL!;
    super({ errno, syscall: 'xenstore', request });
    this.node = node;
    if (node !== undefined)
      this.message = this.message.replace(`${request} failed`, `${request} ${node} failed`);
  }
}

const badPath = 'the path is malformed (xenstore allows letters, digits and - / _ @; no empty components)';
registerHints('XS_READ', {
  ENOENT: 'no such node',
  EACCES: 'this domain may not read that node',
  EINVAL: badPath,
});
registerHints('XS_MKDIR', { EINVAL: badPath });
registerHints('XS_RM', { EINVAL: badPath });
registerHints('XS_DIRECTORY', { EINVAL: badPath });
registerHints('XS_DIRECTORY', { ENOENT: 'no such node', EACCES: 'this domain may not read that node' });
registerHints('XS_GET_PERMS', { ENOENT: 'no such node', EACCES: 'this domain may not read that node' });
registerHints('XS_WRITE', {
  EACCES: 'this domain may not write that node (or create a child of its parent)',
  ENOSPC: 'the domain is over its xenstore quota (nodes, size or transactions)',
  E2BIG: 'the value or path is over the xenstore limits',
  EINVAL: badPath,
});
registerHints('XS_MKDIR', { EACCES: 'this domain may not create that node' });
registerHints('XS_RM', { EACCES: 'this domain may not remove that node', ENOENT: 'no such node' });
registerHints('XS_SET_PERMS', {
  EACCES: "only the owner (or dom0) may change a node's permissions",
  EINVAL: 'the permission list is malformed',
  ENOENT: 'no such node',
});
registerHints('XS_WATCH', {
  EEXIST: 'this connection already watches that path with that token',
  E2BIG: 'too many watches for this domain',
});
registerHints('XS_TRANSACTION_END', {
  EAGAIN: 'another writer changed what the transaction read: run it again',
  ENOENT: 'no such transaction (it ended, or the connection changed)',
});
registerHints('XS_TRANSACTION_START', { ENOSPC: 'too many open transactions for this domain' });
registerHints('XS_GET_DOMAIN_PATH', { EINVAL: 'not a domain id' });
