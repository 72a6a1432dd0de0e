/** The library's version, recorded in every model file it writes. */
export const VERSION = '0.3.0';
