// What each errno means for the evtchn ioctls: KernelError messages say the rule.
import { registerHints } from '@zcopy/core/internal';

registerHints('IOCTL_EVTCHN_BIND_INTERDOMAIN', {
  EINVAL: 'the remote port is not an unbound port allocated for this domain (or is already bound)',
  ESRCH: 'no such remote domain',
  EACCES: 'this fd is restricted to another domain',
  EPERM: 'the remote domain did not allocate that port for this domain',
});
registerHints('IOCTL_EVTCHN_BIND_UNBOUND_PORT', {
  ESRCH: 'no such remote domain',
  EACCES: 'an fd restricted to one domain can only bind interdomain',
});
registerHints('IOCTL_EVTCHN_BIND_VIRQ', {
  EINVAL: 'unknown VIRQ number',
  EEXIST: 'that VIRQ is already bound in this domain (the kernel or another fd holds it)',
  EACCES: 'an fd restricted to one domain can only bind interdomain',
});
registerHints('IOCTL_EVTCHN_UNBIND', {
  ENOTCONN: 'the port is not bound on this fd',
  EINVAL: "the port number is beyond the hypervisor's event channels",
});
registerHints('IOCTL_EVTCHN_NOTIFY', { ENOTCONN: 'the port is not bound on this fd' });
registerHints('IOCTL_EVTCHN_RESTRICT_DOMID', {
  EACCES: 'the fd is already restricted',
  EINVAL: 'domid must be a guest domain (1..DOMID_FIRST_RESERVED-1)',
});
