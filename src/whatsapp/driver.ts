// The driver interface is core's port (src/core/driver-port.ts); drivers import it from here.
export * from '../core/driver-port.js';
