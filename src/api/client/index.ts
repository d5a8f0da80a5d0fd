// The Beacon API client a validator client uses: one node (BeaconApiClient) or several with fallbacks (BeaconNodes).
export { BeaconApiClient, type BeaconApiClientOptions, type RequestOptions } from "./client.js";
export { BeaconNodes, type BeaconNodeState, type BeaconNodesOptions } from "./beaconNodes.js";
export { BeaconApiError, type BeaconApiErrorKind } from "./errors.js";
export { readEventStream, type ServerSentEvent } from "./sse.js";
export * from "./json.js";
export * from "./types.js";
