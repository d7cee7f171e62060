export * from './port.js';
export * from './simulated/simulated-reader.js';
