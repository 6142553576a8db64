// The xfrm control schema moved to src/control/xfrm.ts, a leaf that the
// cores (xfrm/, ike/), the daemon and the CLI all import. This re-export
// keeps the existing importers unchanged; new code imports control/ directly.
export * from '../control/xfrm.js';
