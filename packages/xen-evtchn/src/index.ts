export { EVTCHN_PATH, EventChannel, type EventChannelOptions } from './event-channel.js';
