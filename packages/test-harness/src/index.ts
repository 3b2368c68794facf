// @zcopy/test-harness (private): the two-domain harness of the repository's Xen tests and benches.
export { AgentCallError, AgentDomU, type AgentError } from './agent-domu.js';
export {
  bootWithPackages,
  checkBuilt,
  domainAlive,
  domainMemMiB,
  listedDomids,
  type PackagesBootOptions,
  xenDeathLines,
} from './boot.js';
export { type FdSnapshot, fdSnapshot, openFds } from './fds.js';
