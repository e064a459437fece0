// The app's one door to Parley: the SDK from client/, bundled into app.js.
export { ParleyClient, type ClientState } from '../../client/index.ts';
