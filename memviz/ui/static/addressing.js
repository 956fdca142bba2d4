// NTM addressing in the browser: the five stages of memviz/addressing.py (Graves et al. 2014, section 3.3),
// in double precision, so a page can follow a slider while it is dragged with no server round trip.
// Conventions as in DESIGN.md section 2: shift is a distribution over offsets -R..+R in that order, offset +1
// moves the focus from location i to i + 1 (wrapping); sharpening is softmax(gamma * log(w_s + tiny)).
// The browser tests check these numbers against memviz.addressing (within 1e-5, beta up to 1000, gamma 100).

export const COSINE_EPS = 1e-8; // memviz.addressing.COSINE_EPS: a zero row or key gives similarity 0
export const TINY = 1.1754943508222875e-38; // torch.finfo(float32).tiny, as the playground's float32 runs use

// Clamp to >= 0 and rescale to sum 1; an all-zero vector becomes `fallback` (memviz.addressing.as_distribution).
export function asDistribution(values, fallback) {
  const clamped = values.map((v) => Math.max(v, 0));
  const total = clamped.reduce((a, b) => a + b, 0);
  return total > 0 ? clamped.map((v) => v / total) : fallback.slice();
}

// K(k, M_i) = k . M_i / (|k| |M_i| + eps) for every row (eq. 6).
export function cosineSimilarity(memory, key) {
  const keyNorm = Math.hypot(...key);
  return memory.map((row) => {
    let dot = 0;
    for (let j = 0; j < row.length; j++) dot += row[j] * key[j];
    return dot / (Math.hypot(...row) * keyNorm + COSINE_EPS);
  });
}

// Max-subtracted softmax: safe for any scale of logits.
export function softmax(logits) {
  const top = Math.max(...logits);
  const e = logits.map((x) => Math.exp(x - top));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / total);
}

// w_c = softmax(beta * K) (eq. 5).
export function contentFocus(similarity, beta) {
  return softmax(similarity.map((k) => beta * k));
}

// w_g = g w_c + (1 - g) w_prev (eq. 7).
export function interpolate(wContent, wPrev, gate) {
  return wContent.map((w, i) => gate * w + (1 - gate) * wPrev[i]);
}

// w_s(i) = sum_k w_g(i - offset_k mod N) s_k, offsets -R..+R (eq. 8, a circular convolution).
export function circularShift(wGated, shift) {
  const n = wGated.length;
  const radius = (shift.length - 1) / 2;
  return wGated.map((_, i) => {
    let total = 0;
    for (let k = 0; k < shift.length; k++) {
      const j = (((i - (k - radius)) % n) + n) % n;
      total += wGated[j] * shift[k];
    }
    return total;
  });
}

// w = softmax(gamma * log(w_s + tiny)) (eq. 9 in log space: exact, never 0/0).
export function sharpen(wShifted, gamma) {
  return softmax(wShifted.map((w) => gamma * Math.log(w + TINY)));
}

// Every stage of one head's addressing (memviz.addressing.address): w_prev and shift rescaled first.
export function address(memory, key, beta, gate, shift, gamma, wPrev) {
  const n = memory.length;
  const uniform = new Array(n).fill(1 / n);
  const stay = shift.map((_, k) => (k === (shift.length - 1) / 2 ? 1 : 0));
  const prev = asDistribution(wPrev, uniform);
  const s = asDistribution(shift, stay);
  const similarity = cosineSimilarity(memory, key);
  const w_c = contentFocus(similarity, beta);
  const w_g = interpolate(w_c, prev, gate);
  const w_s = circularShift(w_g, s);
  const w = sharpen(w_s, gamma);
  return { similarity, w_c, w_g, w_s, w };
}
