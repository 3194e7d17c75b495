// SPDX-License-Identifier: Apache-2.0
// Writes tone-1khz-pcmu.wav (or the path given) for uas-answer-tone.xml.
'use strict';
const path = require('path');
const { writeUlawToneWav } = require(path.join(__dirname, '../../tests/js/lib/wav'));
writeUlawToneWav(process.argv[2] || 'tone-1khz-pcmu.wav', { freqHz: Number(process.argv[3] || 1000) });
