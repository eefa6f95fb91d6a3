/**
 * Glyph outlines for the cover's text: the Hershey "Roman Simplex" stroke font
 * (ASCII 32–126), stored as data so that the picture never depends on the fonts
 * a host has installed. Each glyph is drawn as strokes (polylines), not filled
 * shapes, so it renders the same through any SVG rasteriser.
 *
 * Encoding: `[advance, strokes]`. `strokes` separates strokes with a space;
 * each point is two characters, x then y, each `charCode − 48`. Units: the cap
 * height runs from y = 1 to the baseline at y = 22 (21 units); descenders reach
 * y = 29, brackets y = −3; x starts at the glyph's left edge.
 *
 * Source and licence. The Hershey Fonts were originally created by Dr. A. V.
 * Hershey while working at the U. S. National Bureau of Standards. The format of
 * the Font data in the usenet distribution was originally created by James
 * Hurt, Cognition, Inc., 900 Technology Park Drive, Billerica, MA 01821
 * (mit-eddie!ci-dandelion!hurt). That distribution may be used by anyone for any
 * purpose, providing that these acknowledgements are distributed with the font
 * data, and the data may be converted into any other format except the one
 * distributed by the U.S. NTIS; this file is such a conversion.
 * The coordinates were taken from the JSON edition in the npm package
 * `hersheytext` 2.0.0 (font "futural"), which carries this notice:
 *
 *   The MIT License (MIT) — Copyright (c) 2014 James T
 *   Permission is hereby granted, free of charge, to any person obtaining a copy
 *   of this software and associated documentation files (the "Software"), to deal
 *   in the Software without restriction, including without limitation the rights
 *   to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 *   copies of the Software, and to permit persons to whom the Software is
 *   furnished to do so, subject to the following conditions: The above copyright
 *   notice and this permission notice shall be included in all copies or
 *   substantial portions of the Software. THE SOFTWARE IS PROVIDED "AS IS",
 *   WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED
 *   TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
 *   NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
 *   FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT,
 *   TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR
 *   THE USE OR OTHER DEALINGS IN THE SOFTWARE.
 */

/** Baseline and cap height in font units. */
export const SIMPLEX_BASELINE = 22;
export const SIMPLEX_CAP_HEIGHT = 21;

/** Glyph of character code `32 + index`. */
export const SIMPLEX_GLYPHS: ReadonlyArray<readonly [advance: number, strokes: string]> = [
  [16, ''], // space
  [10, '515? 5D4E5F6E5D'], // !
  [16, '4148 <1<8'], // "
  [22, ';-4M A-:M 4:B: 3@A@'], // #
  [20, '8-8J <-<J A4?2<18152343648597:=<?=@>A@AC?E<F8F5E3C'], // $
  [24, 'E13F 81:3:59778583634426181:2=3@3C2E1 A??@>B>D@FBFDEECEAC?A?'], // %
  [26, 'G:G9F8E8D9C;A@?C=E;F7F5E4D3B3@4>5=<9=8>6>4=2;192848699;<@CBEDFFFGEGD'], // &
  [10, '53425162645647'], // '
  [14, ';-9/72564;4?5D7H9K;M'], // (
  [14, '3-5/7296:;:?9D7H5K3M'], // )
  [16, '878C 3:=@ =:3@'], // *
  [26, '=4=F 4=F='], // +
  [8, '5B4C3B4A5B5D3F'], // ,
  [26, '4=F='], // -
  [8, '4A3B4C5B4A'], // .
  [22, 'D-2M'], // /
  [20, '9162453:3=4B6E9F;F>E@BA=A:@5>2;191'], // 0
  [20, '6584;1;F'], // 1
  [20, '4645536281<1>2?3@5@7?9=<3FAF'], // 2
  [20, '51@1:9=9?:@;A>A@@C>E;F8F5E4D3B'], // 3
  [20, '=13?B? =1=F'], // 4
  [20, '?1514:5988;8>9@;A>A@@C>E;F8F5E4D3B'], // 5
  [20, '@4?2<1:172554:4?5C7E:F;F>E@CA@A?@<>:;9:97:5<4?'], // 6
  [20, 'A17F 31A1'], // 7
  [20, '815244465879;:>;@=A?AB@D?E<F8F5E4D3B3?4=6;9:=9?8@6@4?2<181'], // 8
  [20, '@8?;==:>9>6=4;3837446291:1=2?4@8@=?B=E:F8F5E4C'], // 9
  [8, '4:3;4<5;4: 4A3B4C5B4A'], // :
  [8, '4:3;4<5;4: 5B4C3B4A5B5D3F'], // ;
  [24, 'D44=DF'], // <
  [26, '4:F: 4@F@'], // =
  [24, '44D=4F'], // >
  [18, '3635435271;1=2>3?5?7>9=:9<9? 9D8E9F:E9D'], // ?
  [28, 'B9A7?6<6:7988;8>9@;A>A@@A> <6:89;9>:@;A B6A>A@CAEAG?H<H:G7F5D3B2?1<1927355473:3=4@5B7D9E<F?FBEDDEC C6B>B@CA'], // @
  [18, '911F 91AF 4?>?'], // A
  [20, '414F 41=1@2A3B5B7A9@:=; 4;=;@<A=B?BBAD@E=F4F'], // B
  [22, 'B6A4?2=191725446393>4A5C7E9F=F?EACBA'], // C
  [20, '414F 41;1>2@4A6B9B>AA@C>E;F4F'], // D
  [18, '414F 41A1 4;<; 4FAF'], // E
  [16, '414F 41A1 4;<;'], // F
  [22, 'B6A4?2=191725446393>4A5C7E9F=F?EACBAB> =>B>'], // G
  [22, '414F B1BF 4;B;'], // H
  [8, '414F'], // I
  [16, '<1<A;D:E8F6F4E3D2A2?'], // J
  [20, '414F B14? 9:BF'], // K
  [14, '414F 4F@F'], // L
  [24, '414F 41<F D1<F D1DF'], // M
  [22, '414F 41BF B1BF'], // N
  [22, '91725446393>4A5C7E9F=F?EACBAC>C9B6A4?2=191'], // O
  [20, '414F 41=1@2A3B5B8A:@;=<4<'], // P
  [22, '91725446393>4A5C7E9F=F?EACBAC>C9B6A4?2=191 <BBH'], // Q
  [20, '414F 41=1@2A3B5B7A9@:=;4; ;;BF'], // R
  [20, 'A4?2<18152343648597:=<?=@>A@AC?E<F8F5E3C'], // S
  [16, '818F 11?1'], // T
  [22, '414@5C7E:F<F?EACB@B1'], // U
  [18, '119F A19F'], // V
  [24, '217F <17F <1AF F1AF'], // W
  [20, '31AF A13F'], // X
  [18, '119;9F A19;'], // Y
  [20, 'A13F 31A1 3FAF'], // Z
  [14, '4-4M 5-5M 4-;- 4M;M'], // [
  [14, '01>I'], // backslash
  [14, '9-9M :-:M 3-:- 3M:M'], // ]
  [16, '8/0= 8/@='], // ^
  [18, '0MBM'], // _
  [8, '56383:4;5:493:'], // `
  [20, '?8?F ?;=9;888694;3>3@4C6E8F;F=E?C'], // a
  [18, '414F 4;6988;8=9?;@>@@?C=E;F8F6E4C'], // b
  [18, '?;=9;888694;3>3@4C6E8F;F=E?C'], // c
  [20, '?1?F ?;=9;888694;3>3@4C6E8F;F=E?C'], // d
  [18, '3>?>?<>:=9;888694;3>3@4C6E8F;F=E?C'], // e
  [14, ':18162555F 2898'], // f
  [20, '?8?H>K=L;M8M6L ?;=9;888694;3>3@4C6E8F;F=E?C'], // g
  [20, '414F 4<7998<8>9?<?F'], // h
  [8, '3142514031 484F'], // i
  [10, '5162716051 686I5L3M1M'], // j
  [16, '414F >84B 8>?F'], // k
  [8, '414F'], // l
  [30, '484F 4<7998<8>9?<?F ?<B9D8G8I9J<JF'], // m
  [20, '484F 4<7998<8>9?<?F'], // n
  [20, '88694;3>3@4C6E8F;F=E?C@@@>?;=9;888'], // o
  [18, '484M 4;6988;8=9?;@>@@?C=E;F8F6E4C'], // p
  [20, '?8?M ?;=9;888694;3>3@4C6E8F;F=E?C'], // q
  [12, '484F 4>5;7998<8'], // r
  [18, '>;=9:878493;4=6>;?=@>B>C=E:F7F4E3C'], // s
  [14, '515B6E8F:F 2898'], // t
  [20, '484B5E7F:F<E?B ?8?F'], // u
  [16, '288F >88F'], // v
  [22, '387F ;87F ;8?F C8?F'], // w
  [18, '38>F >83F'], // x
  [16, '288F >88F6J4L2M1M'], // y
  [18, '>83F 38>8 3F>F'], // z
  [14, '9-7.6/51536576888:6< 7.6062748597998;4=8?9A9C8E7F6H6J7L 6>8@8B7D6E5G5I6K7L9M'], // {
  [8, '4-4M'], // |
  [14, '5-7.8/91938576686:8< 7.8082746557596;:=6?5A5C6E7F8H8J7L 8>6@6B7D8E9G9I8K7L5M'], // }
  [24, '3@3>4;6:8::;>>@?B?D>E< 3>4<6;8;:<>?@@B@D?E<E:'], // ~
];
