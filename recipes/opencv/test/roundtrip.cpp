// Links against the packaged C++ libraries: makes an image, encodes it to JPEG
// with the packaged imgcodecs (and its static JPEG library), decodes it back and
// checks the result. Built and run by meta.yaml's test commands.
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cstdio>
#include <vector>

int main() {
    cv::Mat image(48, 64, CV_8UC3);
    for (int y = 0; y < image.rows; ++y)
        for (int x = 0; x < image.cols; ++x)
            image.at<cv::Vec3b>(y, x) = cv::Vec3b(x * 4, y * 5, 128);

    std::vector<uchar> jpeg;
    if (!cv::imencode(".jpg", image, jpeg, {cv::IMWRITE_JPEG_QUALITY, 95}) || jpeg.size() < 4 ||
        jpeg[0] != 0xFF || jpeg[1] != 0xD8) {
        std::fprintf(stderr, "imencode did not produce a JPEG\n");
        return 1;
    }
    cv::Mat decoded = cv::imdecode(jpeg, cv::IMREAD_COLOR);
    if (decoded.size() != image.size() || decoded.type() != image.type()) {
        std::fprintf(stderr, "imdecode returned %dx%d type %d\n", decoded.cols, decoded.rows,
                     decoded.type());
        return 1;
    }
    // A smooth gradient at quality 95 decodes to within a few levels of the original.
    double error = cv::norm(image, decoded, cv::NORM_INF);
    if (error > 16) {
        std::fprintf(stderr, "decoded image differs by up to %.0f levels\n", error);
        return 1;
    }
    std::printf("OpenCV %s: %zu-byte JPEG, max error %.0f\n", CV_VERSION, jpeg.size(), error);
    return 0;
}
