// Golden tests of the syslog parser (src/parsers/syslog.ts): the examples of RFC 5424 section
// 6.5 and every corner of its grammar, RFC 3164 as daemons write it to files and sockets.

import { describe, expect, test } from 'vitest';
import { encode, NOW_ISO, parseOne, type Event } from './helpers.js';

const BOM = '\ufeff';
const NULLS = {
  facility: null,
  severity: null,
  level: null,
  hostname: null,
  appname: null,
  procid: null,
  msgid: null,
  structured_data: null,
};

/** Local wall-clock time as the event timestamp (RFC 3164 has no zone: the host's). */
const local = (y: number, mo: number, d: number, h: number, mi: number, s: number) =>
  new Date(y, mo - 1, d, h, mi, s).toISOString();

describe('RFC 5424', () => {
  test.each<[string, string, Event]>([
    [
      '6.5 example 1: no SD, a BOM before MSG',
      `<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - ${BOM}'su root' failed for lonvick on /dev/pts/8`,
      {
        message: "'su root' failed for lonvick on /dev/pts/8",
        timestamp: '2003-10-11T22:14:15.003Z',
        facility: 4,
        severity: 2,
        level: 'critical',
        hostname: 'mymachine.example.com',
        appname: 'su',
        procid: null,
        msgid: 'ID47',
        structured_data: null,
      },
    ],
    [
      '6.5 example 2: microseconds and an offset',
      "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
      {
        message: "%% It's time to make the do-nuts.",
        timestamp: '2003-08-24T12:14:15.000Z',
        facility: 20,
        severity: 5,
        level: 'notice',
        hostname: '192.0.2.1',
        appname: 'myproc',
        procid: '8710',
        msgid: null,
        structured_data: null,
      },
    ],
    [
      '6.5 example 3: structured data',
      `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] ${BOM}An application event log entry...`,
      {
        message: 'An application event log entry...',
        structured_data: {
          'exampleSDID@32473': { iut: '3', eventSource: 'Application', eventID: '1011' },
        },
      },
    ],
    [
      '6.5 example 4: several SD elements and no MSG',
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]',
      {
        message: '',
        structured_data: {
          'exampleSDID@32473': { iut: '3', eventSource: 'Application', eventID: '1011' },
          'examplePriority@32473': { class: 'high' },
        },
      },
    ],
    [
      'NILVALUE in every header field and SD, no MSG',
      '<14>1 - - - - - -',
      {
        message: '',
        timestamp: NOW_ISO,
        facility: 1,
        severity: 6,
        level: 'info',
        hostname: null,
        appname: null,
        procid: null,
        msgid: null,
        structured_data: null,
      },
    ],
    [
      'escaped `]`, `"` and `\\` in PARAM-VALUE; a lone backslash stays',
      '<14>1 - h a - - [x@1 p="a\\]b\\"c\\\\d" q="C:\\dir" r="" s="]" t="\\x22"] m',
      {
        // RFC 5424 6.3.3: `\x22` is not an escape there (nginx's \xHH is decoded only in CLF)
        structured_data: { 'x@1': { p: 'a]b"c\\d', q: 'C:\\dir', r: '', s: ']', t: '\\x22' } },
        message: 'm',
      },
    ],
    [
      'a repeated PARAM-NAME becomes an array',
      '<14>1 - h a - - [origin ip="192.0.2.1" ip="192.0.2.129" software="x"] m',
      { structured_data: { origin: { ip: ['192.0.2.1', '192.0.2.129'], software: 'x' } } },
    ],
    [
      'an SD element without params',
      '<14>1 - h a - - [timeQuality] m',
      { structured_data: { timeQuality: {} } },
    ],
    [
      'PRI bounds: 0 and 191',
      '<0>1 - - - - - - m',
      { facility: 0, severity: 0, level: 'emergency' },
    ],
    ['PRI 191', '<191>1 - - - - - - m', { facility: 23, severity: 7, level: 'debug' }],
    [
      'a MSG that looks like SD stays the message',
      '<14>1 - h a - - - [not sd] "quoted"',
      { message: '[not sd] "quoted"', structured_data: null },
    ],
    [
      'a BOM only where the MSG starts is dropped',
      `<14>1 - h a - - - x${BOM}y`,
      { message: `x${BOM}y` },
    ],
  ])('%s', (_name, line, expected) => {
    const e = parseOne('syslog', line);
    expect(e.parse_error).toBeUndefined();
    for (const [k, v] of Object.entries(expected)) expect(e[k], k).toStrictEqual(v);
  });

  test('every event has the same keys, in order', () => {
    const e = parseOne('syslog', '<14>1 2026-11-23T12:00:00Z h a 1 m - hello');
    expect(Object.keys(e)).toEqual([
      'message',
      'timestamp',
      'facility',
      'severity',
      'level',
      'hostname',
      'appname',
      'procid',
      'msgid',
      'structured_data',
    ]);
  });

  test.each([
    ['PRI above 191', '<192>1 - - - - - - m'],
    ['an empty PRI', '<>1 - - - - - - m'],
    ['an unclosed PRI', '<14 1 - - - - - -'],
    ['a bad timestamp', '<14>1 2003-13-11T22:14:15Z h a - - - m'],
    ['a missing header field', '<14>1 - h a -'],
    ['a param value without quotes', '<14>1 - h a - - [x p=1] m'],
    ['an unterminated param value', '<14>1 - h a - - [x p="1] m'],
    ['an empty SD-ID', '<14>1 - h a - - [] m'],
    ['an unclosed SD element', '<14>1 - h a - - [x p="1" m'],
    ['SD glued to MSG', '<14>1 - h a - - [x p="1"]m'],
    ['no PRI, no time', 'hello world'],
  ])('parse_error: %s', (_name, line) => {
    const { events, parseErrors } = encode('syslog', line + '\n');
    expect(parseErrors).toBe(1);
    const { source: _s, host: _h, ...rest } = events[0];
    expect(rest).toStrictEqual({ message: line, timestamp: NOW_ISO, parse_error: true });
  });
});

describe('RFC 3164', () => {
  test.each<[string, string, Event]>([
    [
      'the RFC 3164 example',
      "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
      {
        message: "'su root' failed for lonvick on /dev/pts/8",
        timestamp: local(2026, 10, 11, 22, 14, 15),
        facility: 4,
        severity: 2,
        level: 'critical',
        hostname: 'mymachine',
        appname: 'su',
        procid: null,
        msgid: null,
        structured_data: null,
      },
    ],
    [
      'a /var/log/syslog line: no PRI, a PID',
      'Nov 23 12:00:00 web-1 sshd[1234]: Accepted publickey for alice',
      {
        ...NULLS,
        message: 'Accepted publickey for alice',
        timestamp: local(2026, 11, 23, 12, 0, 0),
        hostname: 'web-1',
        appname: 'sshd',
        procid: '1234',
      },
    ],
    [
      'a space-padded day',
      'Nov  3 01:02:03 h cron[7]: x',
      { timestamp: local(2026, 11, 3, 1, 2, 3), appname: 'cron', procid: '7' },
    ],
    [
      'sent to /dev/log: no HOSTNAME yet',
      '<13>Nov 23 12:00:00 sshd[12]: hello',
      { hostname: null, appname: 'sshd', procid: '12', message: 'hello', severity: 5 },
    ],
    [
      'a TAG with a slash',
      'Nov 23 12:00:00 mx postfix/smtpd[99]: connect from x',
      { appname: 'postfix/smtpd', procid: '99', message: 'connect from x' },
    ],
    [
      'no TAG: the rest is the message',
      'Nov 23 12:00:00 h kernel said something',
      { hostname: 'h', appname: null, procid: null, message: 'kernel said something' },
    ],
    [
      'rsyslog high-precision file format (RFC 3339 time)',
      '2026-11-23T12:00:00.123456+01:00 web-1 app[5]: started',
      {
        timestamp: '2026-11-23T11:00:00.123Z',
        hostname: 'web-1',
        appname: 'app',
        message: 'started',
      },
    ],
    [
      'a line up to a week ahead of now (clock skew) is this year',
      'Nov 28 00:00:00 h a: x',
      { timestamp: local(2026, 11, 28, 0, 0, 0) },
    ],
    [
      'PRI and no header time: everything after PRI is the message (RFC 3164 4.3.3)',
      '<13>hello world',
      {
        ...NULLS,
        facility: 1,
        severity: 5,
        level: 'notice',
        message: 'hello world',
        timestamp: NOW_ISO,
      },
    ],
    ['an empty message', 'Nov 23 12:00:00 h app:', { appname: 'app', message: '' }],
  ])('%s', (_name, line, expected) => {
    const e = parseOne('syslog', line);
    expect(e.parse_error).toBeUndefined();
    for (const [k, v] of Object.entries(expected)) expect(e[k], k).toStrictEqual(v);
  });

  test('a line more than a week ahead of now is from last year', () => {
    // NOW is 2026-11-23: "Dec 31" would be five weeks ahead, so it is 2025-12-31.
    const e = parseOne('syslog', 'Dec 31 23:59:59 h a: x');
    expect(e.timestamp).toBe(local(2025, 12, 31, 23, 59, 59));
  });

  test('CRLF and non-UTF-8 bytes in the message', () => {
    const line = Buffer.concat([
      Buffer.from('<13>Nov 23 12:00:00 h a: bad '),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('\r\n'),
    ]);
    const { events } = encode('syslog', line);
    expect(events[0].message).toBe('bad \ufffd\ufffd');
    expect(events[0].appname).toBe('a');
  });

  test('hits: RFC 5424 and RFC 3164 lines counted apart', () => {
    const { stage } = encode('syslog', [
      '<14>1 - - - - - - m',
      'Nov 23 12:00:00 h a: x',
      'Nov 23 12:00:00 h a: y',
    ]);
    expect([...stage.parser.hits]).toEqual([1, 2]);
  });
});
