// Runs an exported model in ONNX Runtime on test images (MNIST IDX, or uint8 .npy arrays of
// N x H x W [x C] images and N labels) and compares with repro predict's probabilities (.npy) and
// run.json's test accuracy; see onnx_check.sh. Exit 0 pass, 1 fail.
'use strict';
const fs = require('fs');
const zlib = require('zlib');
const ort = require('onnxruntime-node');

const [modelPath, imagesPath, labelsPath, npyPath, runJsonPath] = process.argv.slice(2);

function idx(path, magic) {
  const b = zlib.gunzipSync(fs.readFileSync(path));
  if (b.readUInt32BE(0) !== magic) throw new Error(path + ': not an IDX file of magic ' + magic);
  const dims = (b[3] & 0xff);
  const shape = [];
  for (let d = 0; d < dims; d++) shape.push(b.readUInt32BE(4 + 4 * d));
  return { shape, data: b.subarray(4 + 4 * dims) };
}

// A version 1.0 .npy of descr '<f4' (Float32Array) or '|u1' (Buffer).
function npy(path, descr) {
  const b = fs.readFileSync(path);
  const len = b.readUInt16LE(8);
  const header = b.toString('latin1', 10, 10 + len);
  if (!header.includes("'" + descr + "'")) throw new Error(path + ': not of dtype ' + descr);
  const shape = header.match(/\(([^)]*)\)/)[1].split(',').filter(s => s.trim()).map(Number);
  const data = descr === '<f4'
    ? new Float32Array(b.buffer.slice(b.byteOffset + 10 + len, b.byteOffset + b.length))
    : b.subarray(10 + len);
  return { shape, data };
}

// uint8 images, or a table's float32 rows (N, features) (then the model's input is 'features').
function images_of(path) {
  if (!path.endsWith('.npy')) return idx(path, 2051);
  const header = fs.readFileSync(path).toString('latin1', 10, 128);
  return header.includes("'<f4'") ? npy(path, '<f4') : npy(path, '|u1');
}
function labels_of(path) { return path.endsWith('.npy') ? npy(path, '|u1') : idx(path, 2049); }

async function main() {
  const images = images_of(imagesPath), labels = labels_of(labelsPath);
  const n = images.shape[0], size = images.shape.slice(1).reduce((a, b) => a * b, 1);
  const session = await ort.InferenceSession.create(modelPath);
  const mine = npy(npyPath, '<f4');
  const k = mine.shape[1];
  if (mine.shape[0] !== n) throw new Error('repro predict gave ' + mine.shape[0] + ' rows, not ' + n);
  const theirs = new Float32Array(n * k);
  const batch = 500;
  for (let first = 0; first < n; first += batch) {
    const count = Math.min(batch, n - first);
    const table = images.data instanceof Float32Array;
    const input = new ort.Tensor(table ? 'float32' : 'uint8',
                                 images.data.subarray(first * size, (first + count) * size),
                                 [count].concat(images.shape.slice(1)));
    const out = await session.run(table ? { features: input } : { images: input });
    theirs.set(out.probabilities.data, first * k);
  }
  let maxDiff = 0, classDiffs = 0, decided = 0, correct = 0;
  const argmax = (p, i) => {
    let best = 0;
    for (let j = 1; j < k; j++) if (p[i * k + j] > p[i * k + best]) best = j;
    return best;
  };
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) maxDiff = Math.max(maxDiff, Math.abs(mine.data[i * k + j] - theirs[i * k + j]));
    const sorted = Array.from(mine.data.subarray(i * k, (i + 1) * k)).sort((a, b) => b - a);
    const a = argmax(theirs, i), b = argmax(mine.data, i);
    if (sorted[0] - sorted[1] > 1e-4) {
      decided++;
      if (a !== b) classDiffs++;
    }
    if (a === labels.data[i]) correct++;
  }
  const run = JSON.parse(fs.readFileSync(runJsonPath, 'utf8'));
  const accuracy = Math.fround(correct / n);
  console.log('images: ' + n + ', classes: ' + k + ', onnxruntime-node ' + require('onnxruntime-node/package.json').version);
  console.log('max |probability difference| (ONNX Runtime vs repro predict): ' + maxDiff.toExponential(3));
  console.log('predicted classes that differ, of ' + decided + ' images with a top-2 margin over 1e-4: ' + classDiffs);
  console.log('test accuracy in ONNX Runtime: ' + accuracy + ', run.json: ' + run.test_accuracy);
  const pass = maxDiff <= 1e-4 && classDiffs === 0 && run.test_accuracy !== null && accuracy === run.test_accuracy;
  console.log(pass ? 'PASS' : 'FAIL');
  process.exit(pass ? 0 : 1);
}

main().catch(e => { console.error('onnx_check: ' + e.message); process.exit(1); });
