// SPDX-License-Identifier: Apache-2.0
// WAV files holding a sine tone: 16-bit PCM for Chromium's fake microphone, 8 kHz µ-law for SIPp's rtp_stream.
'use strict';
const fs = require('fs');

// A mono WAV file: 44-byte RIFF header (format 1 = PCM, 7 = µ-law) followed by `data`.
function writeWav(path, { format, sampleRate, bytesPerSample, data }) {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(format, 20);
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * bytesPerSample, 28);
  header.writeUInt16LE(bytesPerSample, 32);
  header.writeUInt16LE(8 * bytesPerSample, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  fs.writeFileSync(path, Buffer.concat([header, data]));
}

const sine = (freqHz, i, rate, amplitude) => Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * freqHz * i) / rate));

function writeToneWav(path, { freqHz, seconds = 5, sampleRate = 48000, amplitude = 0.5 }) {
  const samples = Math.round(seconds * sampleRate);
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) data.writeInt16LE(sine(freqHz, i, sampleRate, amplitude), i * 2);
  writeWav(path, { format: 1, sampleRate, bytesPerSample: 2, data });
}

// G.711 µ-law encoding of one 16-bit sample (ITU-T G.711, the usual bias-and-segment form).
function linearToUlaw(sample) {
  const BIAS = 0x84, CLIP = 32635;
  const sign = (sample >> 8) & 0x80;
  if (sign) sample = -sample;
  if (sample > CLIP) sample = CLIP;
  sample += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (sample & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (sample >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

// An 8 kHz µ-law WAV of a tone: what SIPp's rtp_stream plays as PCMU.
function writeUlawToneWav(path, { freqHz, seconds = 10, amplitude = 0.5 }) {
  const rate = 8000, samples = seconds * rate;
  const data = Buffer.alloc(samples);
  for (let i = 0; i < samples; i++) data[i] = linearToUlaw(sine(freqHz, i, rate, amplitude));
  writeWav(path, { format: 7, sampleRate: rate, bytesPerSample: 1, data });
}

// µ-law decoding (ITU-T G.711).
function ulawToLinear(u) {
  u = ~u & 0xff;
  const sign = u & 0x80, exponent = (u >> 4) & 7, mantissa = u & 0x0f;
  let x = ((mantissa << 3) + 0x84) << exponent;
  x -= 0x84;
  return sign ? -x : x;
}
// A Goertzel scan for the dominant frequency of 8 kHz audio (10 Hz steps, 100-3900 Hz).
function dominantHz(pcm) {
  let best = 0, bestPower = -1;
  for (let f = 100; f <= 3900; f += 10) {
    const k = 2 * Math.cos((2 * Math.PI * f) / 8000);
    let s1 = 0, s2 = 0;
    for (const x of pcm) { const s0 = x + k * s1 - s2; s2 = s1; s1 = s0; }
    const p = s1 * s1 + s2 * s2 - k * s1 * s2;
    if (p > bestPower) { bestPower = p; best = f; }
  }
  return best;
}

module.exports = { writeToneWav, writeUlawToneWav, linearToUlaw, ulawToLinear, dominantHz };
