// Package experiments holds the two experiments of cmd/mmdflow, which
// reproduce the MMD gradient flow results of Arbel, Korba, Salim and Gretton
// (NeurIPS 2019) with the mmd package:
//
//   - a 2-D toy: particles started badly flow towards a ring of Gaussians or
//     two moons, with and without noise injection ([RunToy]);
//   - the student-teacher network of the paper, where the particles are the
//     hidden units of a wide student network ([RunStudentTeacher]).
//
// Charts are drawn with gonum/plot ([PlotToyCurves], [PlotToyFrames],
// [ToyGIF], [PlotStudentTeacher]).
package experiments
